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

    /// <summary>
    /// A page of events in two statements, whatever its size: the congresses planned in it, then one row per step, with
    /// the congress's campaign and organisation from the first (one statement per event cost 0.1 ms each in PostgreSQL,
    /// 300,000 of them for a simulated campaign of 100,000 organisations).
    /// </summary>
    public async Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        var planned = events.Select(e => e.Data).OfType<CongressPlanIssued>().ToList();
        var steps = events.Where(e => e.Data is not CongressPlanIssued).Select(e => (Event: e, Step: e.Data switch
        {
            CongressSubmitted s => (s.CongressId, Action: "submitted", Round: (int?)s.Round, Document: (string?)null, Comments: (string?)null, On: s.SubmittedOn),
            SubmissionApproved a => (a.CongressId, "approved", a.Round, a.Decision, null, a.ApprovedOn),
            SubmissionReturned r => (r.CongressId, "returned", r.Round, null, r.Comments, r.ReturnedOn),
            ResultsRecognised r => (r.CongressId, "results-recognised", null, r.Decision, null, r.RecognisedOn),
            BottomUpExemptionGranted x => (x.CongressId, "exemption-granted", null, x.Decision, x.Reason, x.GrantedOn),
            _ => throw new InvalidOperationException($"the approval audit cannot apply {e.EventType} at position {e.GlobalPosition}"),
        })).ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (planned.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO congress.audit_congresses (congress_id, campaign_id, organization_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
                """, planned.Select(p => p.CongressId).ToArray(), planned.Select(p => p.CampaignId).ToArray(), planned.Select(p => p.OrganizationId).ToArray()));
        }

        if (steps.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO congress.approval_audit (global_position, event_id, stream_id, stream_version, congress_id, campaign_id, organization_id,
                    action, round, by_organization, by_user, by_role, document, comments, occurred_on, recorded_at)
                SELECT s.global_position, s.event_id, s.stream_id, s.stream_version, c.congress_id, c.campaign_id, c.organization_id,
                       s.action, s.round, s.by_organization, s.by_user, s.by_role, s.document, s.comments, s.occurred_on, s.recorded_at
                FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::integer[], $7::text[], $8::text[], $9::text[], $10::text[],
                            $11::text[], $12::date[], $13::timestamptz[], $14::text[])
                     AS s(global_position, event_id, stream_id, stream_version, action, round, by_organization, by_user, by_role, document, comments,
                          occurred_on, recorded_at, congress_id)
                JOIN congress.audit_congresses c ON c.congress_id = s.congress_id
                """,
                steps.Select(s => s.Event.GlobalPosition).ToArray(), steps.Select(s => s.Event.EventId).ToArray(), steps.Select(s => s.Event.StreamId).ToArray(),
                steps.Select(s => s.Event.StreamVersion).ToArray(), steps.Select(s => s.Step.Action).ToArray(), steps.Select(s => s.Step.Round).ToArray(),
                steps.Select(s => s.Event.Metadata.Actor.OrganizationId ?? string.Empty).ToArray(), steps.Select(s => s.Event.Metadata.Actor.UserId).ToArray(),
                steps.Select(s => s.Event.Metadata.Actor.Role).ToArray(), steps.Select(s => s.Step.Document).ToArray(), steps.Select(s => s.Step.Comments).ToArray(),
                steps.Select(s => s.Step.On).ToArray(), steps.Select(s => s.Event.RecordedAt).ToArray(), steps.Select(s => s.Step.CongressId).ToArray()));
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var truncate = new NpgsqlCommand("TRUNCATE congress.approval_audit, congress.audit_congresses", connection, transaction);
        await truncate.ExecuteNonQueryAsync(cancellationToken);
    }
}
