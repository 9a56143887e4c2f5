using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;

namespace CongressWorkflow.Engine.Audit;

public sealed record ConformanceReport(
    string CampaignId, string RootOrganizationId, int Organizations, int EventsReplayed, IReadOnlyList<ConformanceFinding> Findings);

/// <summary>
/// Loads what a conformance replay of a subtree needs, in the order it was recorded: the whole tree's history (a unit
/// may have moved in or out), the congresses of the subtree and of its superiors (their windows bound the subtree's),
/// and the campaign's deadline policy; then replays it (<see cref="ConformanceReplay"/>) and keeps the subtree's findings.
/// </summary>
public sealed class ConformanceService(PostgresEventStore store, OrganizationTree tree)
{
    private static readonly IReadOnlyCollection<string> TreeEvents = DomainEventTypes.NamesOf(
        typeof(OrganizationRegistered), typeof(OrganizationMoved), typeof(OrganizationDissolved), typeof(OrganizationRenamed));

    /// <summary>Null when there is no such organisation.</summary>
    public async Task<ConformanceReport?> RunAsync(string campaignId, string rootOrganizationId, CancellationToken cancellationToken = default)
    {
        var subtree = await tree.SubtreeAsync(rootOrganizationId, cancellationToken);
        if (subtree.Count == 0)
        {
            return null;
        }

        var ancestors = await tree.AncestryAsync(rootOrganizationId, cancellationToken);
        var streams = subtree.Concat(ancestors).Select(o => Congress.StreamId(campaignId, o.Id)).Append(CampaignDeadlinePolicy.StreamId(campaignId)).ToList();
        var history = await store.ReadInterleavedAsync(streams, TreeEvents, cancellationToken);
        var inScope = subtree.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        var findings = ConformanceReplay.Replay(history.Select(e => new RecordedFact(e.Data, e.StreamId, e.StreamVersion, e.GlobalPosition, e.RecordedAt,
                e.Metadata.Actor.UserId, e.Metadata.Actor.Role, e.Metadata.Actor.OrganizationId)))
            .Where(f => inScope.Contains(f.OrganizationId))
            .ToList();
        return new ConformanceReport(campaignId, rootOrganizationId, subtree.Count, history.Count, findings);
    }
}
