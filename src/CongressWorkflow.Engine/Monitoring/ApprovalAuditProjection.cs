using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Projections;
using Npgsql;
using static CongressWorkflow.Engine.Monitoring.ProgressProjection;

namespace CongressWorkflow.Engine.Monitoring;

/// <summary>
/// The approval audit trail: every submission, approval, return, recognition and exemption, with who (user, role,
/// organisation), when, which document, and the stream position it came from (so an auditor can verify the event
/// and its hash chain).
/// </summary>
public sealed class ApprovalAuditProjection : IProjection
{
    public const string ProjectionName = "approval-audit";

    public string Name => ProjectionName;

    public IReadOnlySet<string>? EventTypes { get; } = DomainEventTypes.NamesOf(
        typeof(CongressPlanIssued), typeof(CongressSubmitted), typeof(SubmissionApproved), typeof(SubmissionReturned), typeof(ResultsRecognised),
        typeof(BottomUpExemptionGranted));

    public async Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var e in events)
        {
            var (congressId, action, round, document, comments, on) = e.Data switch
            {
                CongressPlanIssued p => (p.CongressId, (string?)null, (int?)null, (string?)null, (string?)null, p.Terms.EffectiveOn),
                CongressSubmitted s => (s.CongressId, "submitted", s.Round, null, null, s.SubmittedOn),
                SubmissionApproved a => (a.CongressId, "approved", a.Round, a.Decision, null, a.ApprovedOn),
                SubmissionReturned r => (r.CongressId, "returned", r.Round, null, r.Comments, r.ReturnedOn),
                ResultsRecognised r => (r.CongressId, "results-recognised", null, r.Decision, null, r.RecognisedOn),
                BottomUpExemptionGranted x => (x.CongressId, "exemption-granted", null, x.Decision, x.Reason, x.GrantedOn),
                _ => throw new InvalidOperationException($"the approval audit cannot apply {e.EventType} at position {e.GlobalPosition}"),
            };
            if (e.Data is CongressPlanIssued issued)
            {
                batch.BatchCommands.Add(Command("INSERT INTO congress.audit_congresses (congress_id, campaign_id, organization_id) VALUES ($1, $2, $3)",
                    issued.CongressId, issued.CampaignId, issued.OrganizationId));
                continue;
            }

            batch.BatchCommands.Add(Command("""
                INSERT INTO congress.approval_audit (global_position, event_id, stream_id, stream_version, congress_id, campaign_id, organization_id,
                    action, round, by_organization, by_user, by_role, document, comments, occurred_on, recorded_at)
                SELECT $1, $2, $3, $4, c.congress_id, c.campaign_id, c.organization_id, $5, $6, $7, $8, $9, $10, $11, $12, $13
                FROM congress.audit_congresses c WHERE c.congress_id = $14
                """, e.GlobalPosition, e.EventId, e.StreamId, e.StreamVersion, action!, round, e.Metadata.Actor.OrganizationId ?? string.Empty,
                e.Metadata.Actor.UserId, e.Metadata.Actor.Role, document, comments, on, e.RecordedAt, congressId));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var truncate = new NpgsqlCommand("TRUNCATE congress.approval_audit, congress.audit_congresses", connection, transaction);
        await truncate.ExecuteNonQueryAsync(cancellationToken);
    }
}
