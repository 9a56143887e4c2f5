using System.Diagnostics;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Congresses;

/// <summary>A congress whose own window no longer lies inside the window its nearest planned superior sets.</summary>
public sealed record WindowConflict(string OrganizationId, DateWindow Window, string SuperiorOrganizationId, DateWindow SuperiorWindow);

/// <summary>
/// Congress commands. The facts that cross aggregates are gathered here, never taken from the caller: the superior
/// (the organisation's parent), the window its superiors set, and which direct subordinates have held their congress.
/// </summary>
public sealed class CongressService(CommandPipeline pipeline)
{
    /// <summary>
    /// Congress streams, each campaign's in a partition of its own, the state kept as a snapshot at each write. The
    /// snapshot's shape is named for <see cref="Congress"/> as it is now: change the name with the record or with
    /// <see cref="Congress.Evolve"/>, and snapshots of the old form are no longer read.
    /// </summary>
    public static readonly AggregateDefinition<Congress> Aggregate = new(
        "congress", Congress.None, Congress.Evolve, congress => congress.CampaignId, new SnapshotShape("congress/1"));

    public Task<(Congress State, long Version)> LoadAsync(string congressId, CancellationToken cancellationToken = default) =>
        pipeline.LoadAsync(Aggregate, congressId, cancellationToken);

    /// <summary>
    /// The congress on both axes of time: what had been recorded by <paramref name="knownAt"/> (record time; all when
    /// null), of which the events dated on or before <paramref name="asOf"/> (valid time; an event without a date of its
    /// own is dated the day it was recorded; all when null). The version is that of the last event folded.
    /// </summary>
    public async Task<(Congress State, long Version)> LoadAsOfAsync(
        string congressId, DateOnly? asOf, DateTimeOffset? knownAt, CancellationToken cancellationToken = default)
    {
        var events = await pipeline.Store.ReadStreamAsync(congressId, new StreamReadOptions(AsOf: knownAt), cancellationToken);
        var state = Congress.None;
        long version = 0;
        foreach (var e in events.Where(e => asOf is null || (Congress.DateOf(e.Data) ?? DateOnly.FromDateTime(e.RecordedAt.UtcDateTime)) <= asOf))
        {
            state = Congress.Evolve(state, e.Data);
            version = e.StreamVersion;
        }

        return (state, version);
    }

    public Task<CommandResult> HandleAsync(CongressCommand command, long? expectedVersion = null, Guid? correlationId = null, CancellationToken cancellationToken = default) =>
        HandleSequenceAsync([command], expectedVersion, correlationId, cancellationToken);

    /// <summary>
    /// Steps of one congress by one actor, in one transaction, all or none: each decided by the same rules on the same
    /// facts as it would be alone, on the state the step before left (a secretariat's "subcommittees, drafts, comments,
    /// personnel plan, submit" of a day). A rejected step rejects them all; nothing is written.
    /// </summary>
    public Task<CommandResult> HandleSequenceAsync(
        IReadOnlyList<CongressCommand> commands, long? expectedVersion = null, Guid? correlationId = null, CancellationToken cancellationToken = default)
    {
        CheckSequence(commands);
        var first = commands[0];
        var streamId = StreamOf(first);

        return pipeline.ExecuteAsync(
            commands.Count == 1 ? Name(first) : "congress-steps", Aggregate, streamId, first.Context, expectedVersion,
            async (state, session) => (await DecideAllAsync([commands], [state], session, cancellationToken))[0],
            ProjectStatusAsync, correlationId: correlationId, cancellationToken: cancellationToken,
            afterAppend: Replans(commands)
                ? (session, state, metadata) => CascadeAsync(session, [new ChangedCongress(state, first.Context, metadata)], cancellationToken)
                : null);
    }

    /// <summary>
    /// Many congresses' sequences (as <see cref="HandleSequenceAsync"/>: one congress, one actor each; one sequence per
    /// congress) in one transaction: decided by the same rules on the same facts, read for all of them at once, and
    /// written through the bulk path. A refused sequence writes none of its steps; the others are written. Plans and
    /// amendments set their cascades off in the same transaction, after all the batch's own events.
    /// </summary>
    public Task<IReadOnlyList<BatchOutcome>> HandleBatchAsync(IReadOnlyList<IReadOnlyList<CongressCommand>> sequences, CancellationToken cancellationToken = default)
    {
        foreach (var sequence in sequences)
        {
            CheckSequence(sequence);
        }

        var replanning = sequences.Where(Replans).Select(s => StreamOf(s[0])).ToHashSet(StringComparer.Ordinal);

        return pipeline.ExecuteBatchAsync("congress-batch", Aggregate, [.. sequences.Select(s => (StreamOf(s[0]), s[0].Context))],
            (states, session) => DecideAllAsync(sequences, states, session, cancellationToken),
            (connection, transaction, writes) => ProjectStatusesAsync(connection, transaction,
                [.. writes.Select(w => (w.StateAfter, w.VersionAfter, w.Events))], writes[0].Context.Today, writes[0].Context.Now),
            afterAppend: (session, writes) => CascadeAsync(session,
                [.. writes.Where(w => replanning.Contains(w.StreamId)).Select(w => new ChangedCongress(w.StateAfter, w.Context, w.Metadata))], cancellationToken),
            cancellationToken: cancellationToken);
    }

    /// <summary>Steps that set the cascade off below the congress (after their own events, in their transaction).</summary>
    private static bool Replans(IReadOnlyList<CongressCommand> commands) => commands.Any(c => c is IssuePlan or AmendPlan);

    private static void CheckSequence(IReadOnlyList<CongressCommand> commands)
    {
        var first = commands[0];
        if (commands.Any(c => StreamOf(c) != StreamOf(first) || c.Context != first.Context))
        {
            throw new ArgumentException("the steps of a sequence are one congress's, by one actor", nameof(commands));
        }
    }

    /// <summary>
    /// Decides sequences step by step, side by side: the facts every sequence's next step needs are read for all of
    /// them at once, and each step is decided on the state the step before it left. The first refused step refuses its
    /// sequence.
    /// </summary>
    private async Task<IReadOnlyList<Decision>> DecideAllAsync(
        IReadOnlyList<IReadOnlyList<CongressCommand>> sequences, IReadOnlyList<Congress> states, CommandSession session, CancellationToken cancellationToken)
    {
        var current = states.ToArray();
        var refused = new Decision?[sequences.Count];
        var events = sequences.Select(_ => new List<object>()).ToArray();
        for (var step = 0; ; step++)
        {
            var live = Enumerable.Range(0, sequences.Count).Where(i => refused[i] is null && step < sequences[i].Count).ToList();
            if (live.Count == 0)
            {
                break;
            }

            var withFacts = await WithFactsAsync([.. live.Select(i => (sequences[i][step], current[i]))], session, cancellationToken);
            for (var k = 0; k < live.Count; k++)
            {
                var i = live[k];
                var decision = withFacts[k] switch
                {
                    (_, { } refusal) => new Decision.Rejected(refusal),
                    (var command, _) => CongressDecider.Decide(command, current[i]),
                };
                if (decision is Decision.Accepted accepted)
                {
                    events[i].AddRange(accepted.Events);
                    current[i] = accepted.Events.Aggregate(current[i], Congress.Evolve);
                }
                else
                {
                    refused[i] = decision;
                }
            }
        }

        return [.. refused.Select((r, i) => r ?? new Decision.Accepted(events[i]))];
    }

    private static string StreamOf(CongressCommand command) =>
        command is IssuePlan issue ? Congress.StreamId(issue.CampaignId, issue.OrganizationId) : command.CongressId;

    /// <summary>A congress as a command just left it, and who acted (the superior of a cascade, or one of its followers).</summary>
    private sealed record ChangedCongress(Congress State, CommandContext Context, EventMetadata Metadata);

    /// <summary>A congress that follows a change made elsewhere: the command it is decided on, recorded with the metadata of the change.</summary>
    private sealed record FollowUp(CongressCommand Command, EventMetadata Metadata);

    /// <summary>
    /// In the superiors' transaction, after their own appends: for those whose newest plan moved the window they set for
    /// their subordinates, every congress not yet held whose nearest planned superior is one of them derives its plan
    /// again (<see cref="PlanCascade"/>), recorded in its own stream; where that moves its own window for subordinates,
    /// the cascade goes on below. A level of the tree at a time, for all the superiors of the
    /// level together: one read of who follows them, one write of all their followers. (Follower by follower, a Central
    /// amendment that moved 28,000 plans of a 100,000-unit campaign took 53 s.) A congress follows one superior per
    /// level: the followers of a superior stop at the units that set a window of their own, which are the next level's
    /// superiors.
    /// </summary>
    private async Task CascadeAsync(CommandSession session, IReadOnlyList<ChangedCongress> superiors, CancellationToken cancellationToken)
    {
        for (var level = Moving(superiors); level.Count > 0;)
        {
            var followers = await FollowersAsync(session, [.. level.Select(c => (c.Superior.State.CampaignId, c.Superior.State.OrganizationId))], cancellationToken);
            var followUps = level.SelectMany((cascade, i) => followers[i].Select(id =>
                    (Id: id, FollowUp: new FollowUp(new FollowSuperiorPlan(id, cascade.Change, cascade.Superior.Context), cascade.Superior.Metadata))))
                .ToDictionary(f => f.Id, f => f.FollowUp, StringComparer.Ordinal);
            if (followUps.Count == 0)
            {
                return;
            }

            var changed = await FollowUpAsync(pipeline.Store, session,
                "SELECT congress_id FROM congress.congresses WHERE congress_id = ANY($1) ORDER BY congress_id FOR UPDATE", [followUps.Keys.ToArray()],
                id => followUps[id], cancellationToken);
            level = Moving(changed);
        }

        // The congresses whose plan moved the window for their subordinates, with the change.
        static List<(ChangedCongress Superior, SubordinateWindowChange Change)> Moving(IEnumerable<ChangedCongress> replanned) =>
            [.. replanned.Select(r => (Superior: r, Change: PlanCascade.ChangeOf(r.State))).Where(m => m.Change is not null).Select(m => (m.Superior, m.Change!))];
    }

    /// <summary>
    /// For each (campaign, superior): the congresses not yet held whose nearest planned superior is that one, down the
    /// tree a level at a time for all the superiors together (the children of the level above, one indexed query), not
    /// past a unit whose own plan sets a window for its subordinates (they follow that one). Only the part of each subtree
    /// that follows is visited. (One recursive query did the same, but its plan depended on the tables' statistics: right
    /// after a large import it scanned every organisation at each level, 100 ms a plan. A query per superior and level
    /// was 41,689 round trips in a 100,000-organisation simulation.)
    /// </summary>
    private static async Task<string[][]> FollowersAsync(
        CommandSession session, IReadOnlyList<(string CampaignId, string SuperiorId)> superiors, CancellationToken cancellationToken)
    {
        var followers = superiors.Select(_ => new List<string>()).ToArray();
        var level = superiors.Select((s, i) => (Superior: i, s.CampaignId, OrganizationId: s.SuperiorId)).ToList();
        while (level.Count > 0)
        {
            var below = new List<(int Superior, string CampaignId, string OrganizationId)>();
            await using var command = new NpgsqlCommand(ChildrenWithCongressesSql, session.Connection, session.Transaction);
            command.Parameters.AddPositional(level.Select(l => l.Superior).ToArray(), level.Select(l => l.CampaignId).ToArray(),
                level.Select(l => l.OrganizationId).ToArray());
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var superior = reader.GetInt32(0);
                    var planned = !reader.IsDBNull(3);
                    if (planned && reader.GetBoolean(4))
                    {
                        followers[superior].Add(reader.GetString(3));
                    }

                    if (!planned || !reader.GetBoolean(5))
                    {
                        below.Add((superior, reader.GetString(1), reader.GetString(2)));
                    }
                }
            }

            level = below;
        }

        return [.. followers.Select(f => f.ToArray())];
    }

    /// <summary>
    /// In an organisation's move, after its own event: each of its congresses (every campaign) records its new direct
    /// superior, so approvals, recognition and notices go to the committee it now sits under.
    /// </summary>
    public static Task FollowMoveAsync(
        PostgresEventStore store, CommandSession session, string organizationId, string newSuperiorId, CommandContext context, EventMetadata metadata,
        CancellationToken cancellationToken) =>
        FollowUpAsync(store, session, "SELECT congress_id FROM congress.congresses WHERE organization_id = $1 ORDER BY congress_id FOR UPDATE",
            [organizationId], id => new FollowUp(new FollowNewSuperior(id, newSuperiorId, context), metadata), cancellationToken);

    /// <summary>
    /// What a command sets off in other congresses, in its transaction after its own append: the congresses the query
    /// names, their rows locked first (so none changes between load and append), each decided on by the Decider and,
    /// those it changed, projected, appended and snapshotted together (the store's bulk path). Returns the congresses that
    /// changed, as they are now, with who changed them.
    /// </summary>
    private static async Task<IReadOnlyList<ChangedCongress>> FollowUpAsync(
        PostgresEventStore store, CommandSession session, string lockingQuery, object?[] parameters, Func<string, FollowUp> followUpOf,
        CancellationToken cancellationToken)
    {
        var congressIds = new List<string>();
        await using (var query = new NpgsqlCommand(lockingQuery, session.Connection, session.Transaction))
        {
            query.Parameters.AddPositional(parameters);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                congressIds.Add(reader.GetString(0));
            }
        }

        // Read in the transaction: a congress written earlier in it (by a batch) is seen as it now is.
        var loaded = await LoadAllAsync(store, session, congressIds, cancellationToken);
        var writes = new List<(string CongressId, FollowUp Cause, long VersionBefore, IReadOnlyList<object> Events, Congress After)>();
        foreach (var congressId in congressIds)
        {
            var (state, version) = loaded[congressId];
            var cause = followUpOf(congressId);
            if (CongressDecider.Decide(cause.Command, state) is Decision.Accepted { Events.Count: > 0 } accepted)
            {
                writes.Add((congressId, cause, version, accepted.Events, accepted.Events.Aggregate(state, Congress.Evolve)));
            }
        }

        if (writes.Count == 0)
        {
            return [];
        }

        var clock = writes[0].Cause.Command.Context;
        await ProjectStatusesAsync(session.Connection, session.Transaction, [.. writes.Select(w => (w.After, w.VersionBefore + w.Events.Count, w.Events))],
            clock.Today, clock.Now);
        await store.AppendInBulkAsync(session.Connection, session.Transaction, writes.Select(w => new BulkStreamAppend(
            new StreamAppend(w.CongressId, Aggregate.StreamType, ExpectedVersion.Exactly(w.VersionBefore), [.. w.Events.Select(NewEvent.WithNewId)],
                Partition: Aggregate.PartitionOf!(w.After)), w.Cause.Metadata)), cancellationToken);
        await store.WriteSnapshotsAsync(session.Connection, session.Transaction, Aggregate.Snapshots!,
            [.. writes.Select(w => new Snapshot<Congress>(w.CongressId, w.VersionBefore + w.Events.Count, w.After))], cancellationToken);
        return [.. writes.Select(w => new ChangedCongress(w.After, w.Cause.Command.Context, w.Cause.Metadata))];
    }

    /// <summary>Congresses read in the command's transaction, each from its snapshot.</summary>
    private static Task<IReadOnlyDictionary<string, AggregateResult<Congress>>> LoadAllAsync(
        PostgresEventStore store, CommandSession session, IReadOnlyCollection<string> congressIds, CancellationToken cancellationToken) =>
        store.AggregateStreamsAsync(congressIds, Aggregate.Initial, Aggregate.Evolve, session.Connection, session.Transaction, cancellationToken, Aggregate.Snapshots);

    /// <summary>
    /// Planned congresses in the organisation's subtree whose window falls outside their nearest planned superior's (one
    /// in the subtree that sets a window for its subordinates). Each congress looks up its own few ancestors by their keys
    /// (its path lists them); comparing every congress with every other in the subtree, as this did before, ran past the
    /// 30-second statement timeout for a Central amendment of a 100,000-unit campaign, after the amendment had committed.
    /// </summary>
    public async Task<IReadOnlyList<WindowConflict>> FindWindowConflictsAsync(string campaignId, string organizationId, CancellationToken cancellationToken = default)
    {
        await using var command = pipeline.DataSource.CreateCommand("""
            WITH root AS (SELECT path FROM congress.organizations WHERE organization_id = $2),
            sub AS (
                SELECT c.organization_id, c.window_start, c.window_end, o.path
                FROM congress.congresses c JOIN congress.organizations o USING (organization_id)
                WHERE c.campaign_id = $1 AND o.path <@ (SELECT path FROM root))
            SELECT s.organization_id, s.window_start, s.window_end, a.organization_id, a.subordinate_window_start, a.subordinate_window_end
            FROM sub s
            JOIN LATERAL (
                SELECT p.organization_id, p.subordinate_window_start, p.subordinate_window_end
                FROM unnest(string_to_array(ltree2text(subpath(s.path, 0, nlevel(s.path) - 1)), '.')::bigint[]) WITH ORDINALITY AS k(org_key, depth)
                JOIN congress.organizations ancestor ON ancestor.org_key = k.org_key
                JOIN congress.congresses p ON p.campaign_id = $1 AND p.organization_id = ancestor.organization_id
                WHERE k.depth >= (SELECT nlevel(path) FROM root) AND p.subordinate_window_start IS NOT NULL
                ORDER BY k.depth DESC LIMIT 1) a ON true
            WHERE s.window_start < a.subordinate_window_start OR s.window_end > a.subordinate_window_end
            ORDER BY s.organization_id
            """);
        command.Parameters.Add(new() { Value = campaignId });
        command.Parameters.Add(new() { Value = organizationId });
        var conflicts = new List<WindowConflict>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            conflicts.Add(new WindowConflict(
                reader.GetString(0), new DateWindow(reader.GetFieldValue<DateOnly>(1), reader.GetFieldValue<DateOnly>(2)),
                reader.GetString(3), new DateWindow(reader.GetFieldValue<DateOnly>(4), reader.GetFieldValue<DateOnly>(5))));
        }

        return conflicts;
    }

    /// <summary>
    /// The facts congress commands decide on (one step of each of several congresses), read in the commands'
    /// transaction under locks, for all of them at once: the organisations' rows (shared for a plan, so none can be
    /// dissolved or moved meanwhile; for update when convening, so no subordinate registers meanwhile) and the
    /// superiors' congress rows (shared, so their windows cannot be amended meanwhile). Each command comes back with
    /// its facts, or with the refusal they make (no such organisation, no such campaign).
    /// </summary>
    private async Task<IReadOnlyList<(CongressCommand Command, DomainError? Refusal)>> WithFactsAsync(
        IReadOnlyList<(CongressCommand Command, Congress State)> steps, CommandSession session, CancellationToken cancellationToken)
    {
        var result = steps.Select(s => (s.Command, Refusal: (DomainError?)null)).ToArray();
        var plans = Enumerable.Range(0, steps.Count).Where(i => steps[i].Command is IssuePlan).ToList();
        if (plans.Count > 0)
        {
            var issues = plans.Select(i => (IssuePlan)steps[i].Command).ToList();
            var organizations = new Dictionary<string, (string? ParentId, bool IsDissolved)>(StringComparer.Ordinal);
            await using (var organization = new NpgsqlCommand(
                "SELECT organization_id, parent_id, is_dissolved FROM congress.organizations WHERE organization_id = ANY($1) ORDER BY organization_id FOR SHARE",
                session.Connection, session.Transaction))
            {
                organization.Parameters.Add(new() { Value = issues.Select(c => c.OrganizationId).Distinct().ToArray() });
                await using var reader = await organization.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    organizations[reader.GetString(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2));
                }
            }

            var campaigns = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var campaign in issues.Select(c => c.CampaignId).Distinct())
            {
                campaigns[campaign] = await CampaignService.ExistsAsync(session, campaign, cancellationToken);
            }

            foreach (var (i, issue) in plans.Zip(issues, (i, c) => (i, c)))
            {
                result[i] = organizations.TryGetValue(issue.OrganizationId, out var found) && !found.IsDissolved
                    ? campaigns[issue.CampaignId]
                        ? (issue with { CongressId = Congress.StreamId(issue.CampaignId, issue.OrganizationId), SuperiorOrganizationId = found.ParentId }, null)
                        : (issue, new DomainError(CampaignErrors.NotStarted, $"there is no campaign '{issue.CampaignId}'"))
                    : (issue, new DomainError(OrganizationErrors.NotRegistered, $"there is no active organisation '{issue.OrganizationId}' to plan a congress for"));
            }
        }

        // The window each plan or amendment is held to: its nearest planned superior's, in the plan in force on its date.
        var windowed = Enumerable.Range(0, steps.Count).Where(i => result[i] is (IssuePlan, null) || (result[i].Command is AmendPlan && steps[i].State.Stage != CongressStage.NotPlanned)).ToList();
        var windows = await InheritedWindowsAsync(session, [.. windowed.Select(i => result[i].Command switch
        {
            IssuePlan issue => (issue.CampaignId, issue.SuperiorOrganizationId, issue.IssuedOn),
            AmendPlan amend => (steps[i].State.CampaignId, steps[i].State.SuperiorOrganizationId, amend.EffectiveOn),
            _ => throw new UnreachableException(),
        })], cancellationToken);
        foreach (var (i, window) in windowed.Zip(windows, (i, w) => (i, w)))
        {
            result[i].Command = result[i].Command switch
            {
                IssuePlan issue => issue with { SuperiorSubordinateWindow = window },
                AmendPlan amend => amend with { SuperiorSubordinateWindow = window },
                var other => other,
            };
        }

        var convening = Enumerable.Range(0, steps.Count).Where(i => steps[i].Command is ConveneCongress && steps[i].State.Stage != CongressStage.NotPlanned).ToList();
        var incomplete = await IncompleteSubordinatesAsync(session, [.. convening.Select(i => (steps[i].State.CampaignId, steps[i].State.OrganizationId))], cancellationToken);
        foreach (var (i, subordinates) in convening.Zip(incomplete, (i, s) => (i, s)))
        {
            result[i].Command = ((ConveneCongress)result[i].Command) with { IncompleteSubordinates = subordinates };
        }

        return result;
    }

    /// <summary>
    /// SQL: for each (index $1, campaign $2, organisation $3), its children with their congresses in the campaign, if any
    /// (superior index, campaign, child, congress id, not yet convened, sets a window for its subordinates). The children
    /// and their congresses are each looked up by index for every row of a batch: written as joins, the planner hashed
    /// the whole organisations and congresses tables for a batch of a thousand committees (186 ms at 100,000
    /// organisations, 62 ms as lookups); OFFSET 0 and LIMIT 1 keep it from turning the lookups back into joins.
    /// </summary>
    public static string ChildrenWithCongressesSql { get; } = $"""
        SELECT l.superior, l.campaign_id, o.organization_id, c.congress_id, c.convened_on IS NULL, c.subordinate_window_end IS NOT NULL
        FROM unnest($1::int[], $2::text[], $3::text[]) AS l(superior, campaign_id, organization_id)
        CROSS JOIN LATERAL ({ChildrenOf("l.organization_id")}) o
        LEFT JOIN LATERAL ({CongressOf("l.campaign_id", "o.organization_id")}) c ON true
        """;

    /// <summary>SQL: for each (campaign $1, organisation $2), its children not dissolved whose congress is not convened, by the same lookups.</summary>
    public static string SubordinatesNotConvenedSql { get; } = $"""
        SELECT u.campaign_id, u.organization_id, o.organization_id
        FROM unnest($1::text[], $2::text[]) AS u(campaign_id, organization_id)
        CROSS JOIN LATERAL ({ChildrenOf("u.organization_id")}) o
        LEFT JOIN LATERAL ({CongressOf("u.campaign_id", "o.organization_id")}) c ON true
        WHERE NOT o.is_dissolved AND c.convened_on IS NULL
        ORDER BY o.organization_id
        """;

    private static string ChildrenOf(string parent) =>
        $"SELECT child.organization_id, child.is_dissolved FROM congress.organizations child WHERE child.parent_id = {parent} OFFSET 0";

    private static string CongressOf(string campaign, string organization) =>
        $"""
        SELECT own.congress_id, own.convened_on, own.subordinate_window_end FROM congress.congresses own
        WHERE own.campaign_id = {campaign} AND own.organization_id = {organization} LIMIT 1
        """;

    /// <summary>How far up a superior's ancestry can reach: the levels of the tree.</summary>
    private static readonly int OrganizationLevels = Enum.GetValues<OrganizationLevel>().Length;

    /// <summary>
    /// For each (campaign, superior, date): the window for subordinates in the plan in force on that date at the
    /// nearest planned superior, walking up from the given one; null at the top or when no superior has planned. The
    /// superiors' congress rows are share-locked first: an amendment of their plans waits for these commands, or is
    /// seen by them.
    /// </summary>
    private async Task<IReadOnlyList<DateWindow?>> InheritedWindowsAsync(
        CommandSession session, IReadOnlyList<(string CampaignId, string? SuperiorId, DateOnly On)> requests, CancellationToken cancellationToken)
    {
        var superiorIds = requests.Where(r => r.SuperiorId is not null).Select(r => r.SuperiorId!).Distinct().ToArray();
        if (superiorIds.Length == 0)
        {
            return [.. requests.Select(_ => (DateWindow?)null)];
        }

        var parents = new Dictionary<string, string?>(StringComparer.Ordinal);
        await using (var ancestry = new NpgsqlCommand(OrganizationTree.UpwardsSql, session.Connection, session.Transaction))
        {
            ancestry.Parameters.AddPositional(superiorIds, OrganizationLevels);
            await using var reader = await ancestry.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                parents[reader.GetString(0)] = reader.IsDBNull(2) ? null : reader.GetString(2);
            }
        }

        var upwards = superiorIds.ToDictionary(id => id, id => OrganizationTree.Upwards(id, parents).ToList(), StringComparer.Ordinal);

        // Looked up by their keys (a congress's id is its stream's): by campaign and organisation, the planner scanned
        // the whole campaign's rows (140 ms a batch at 300,000 organisations).
        var congresses = requests.Where(r => r.SuperiorId is not null)
            .SelectMany(r => upwards.GetValueOrDefault(r.SuperiorId!, []).Select(a => Congress.StreamId(r.CampaignId, a)))
            .ToHashSet(StringComparer.Ordinal);
        await using (var share = new NpgsqlCommand("SELECT 1 FROM congress.congresses WHERE congress_id = ANY($1) ORDER BY congress_id FOR SHARE",
            session.Connection, session.Transaction))
        {
            share.Parameters.Add(new() { Value = congresses.ToArray() });
            await share.ExecuteNonQueryAsync(cancellationToken);
        }

        var superiors = await LoadAllAsync(pipeline.Store, session, congresses, cancellationToken);
        return [.. requests.Select(r => r.SuperiorId is null
            ? null
            : upwards.GetValueOrDefault(r.SuperiorId, [])
                .Select(a => superiors[Congress.StreamId(r.CampaignId, a)].State.PlanInForce(r.On)?.SubordinateWindow)
                .FirstOrDefault(w => w is not null))];
    }

    /// <summary>
    /// For each (campaign, organisation): its direct subordinates not yet convened, counted after locking the
    /// organisations' rows, so no subordinate registers meanwhile.
    /// </summary>
    private static async Task<IReadOnlyList<IReadOnlyList<string>>> IncompleteSubordinatesAsync(
        CommandSession session, IReadOnlyList<(string CampaignId, string OrganizationId)> units, CancellationToken cancellationToken)
    {
        if (units.Count == 0)
        {
            return [];
        }

        await using (var lockRows = new NpgsqlCommand(
            "SELECT 1 FROM congress.organizations WHERE organization_id = ANY($1) ORDER BY organization_id FOR UPDATE", session.Connection, session.Transaction))
        {
            lockRows.Parameters.Add(new() { Value = units.Select(u => u.OrganizationId).Distinct().ToArray() });
            await lockRows.ExecuteNonQueryAsync(cancellationToken);
        }

        var incomplete = new Dictionary<(string CampaignId, string OrganizationId), List<string>>();
        await using (var command = new NpgsqlCommand(SubordinatesNotConvenedSql, session.Connection, session.Transaction))
        {
            command.Parameters.Add(new() { Value = units.Select(u => u.CampaignId).ToArray() });
            command.Parameters.Add(new() { Value = units.Select(u => u.OrganizationId).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = (reader.GetString(0), reader.GetString(1));
                (incomplete.TryGetValue(key, out var list) ? list : incomplete[key] = []).Add(reader.GetString(2));
            }
        }

        return [.. units.Select(u => (IReadOnlyList<string>)incomplete.GetValueOrDefault(u, []))];
    }

    /// <summary>Keeps congress.congresses equal to the congress's state after the command, and puts its notices in the inboxes.</summary>
    public static Task ProjectStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, Congress state, long version, CommandContext context) =>
        ProjectStatusesAsync(connection, transaction, [(state, version, events)], context.Today, context.Now);

    /// <summary>
    /// Keeps congress.congresses (and the deadlines) equal to congresses' states after commands on them, each once, in one
    /// statement for all, and puts the notices their events send in the inboxes.
    /// </summary>
    private static async Task ProjectStatusesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(Congress State, long Version, IReadOnlyList<object> Events)> congresses,
        DateOnly today, DateTimeOffset now)
    {
        var states = congresses.Select(c => c.State).ToList();
        var plans = states.Select(s => s.Plans[^1]).ToList();
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO congress.congresses (congress_id, campaign_id, organization_id, superior_organization_id, stage, is_pilot,
                plan_document, planned_date, window_start, window_end, subordinate_window_start, subordinate_window_end, submission_round,
                exemption, scheduled_start, scheduled_end, is_postponed, convened_on, days_late, plan_in_force_when_held, recognised_by,
                resolution, version)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::date[], $9::date[], $10::date[],
                $11::date[], $12::date[], $13::integer[], $14::text[], $15::date[], $16::date[], $17::boolean[], $18::date[], $19::integer[], $20::text[],
                $21::text[], $22::text[], $23::bigint[])
            ON CONFLICT (congress_id) DO UPDATE SET stage = excluded.stage, superior_organization_id = excluded.superior_organization_id,
                plan_document = excluded.plan_document,
                planned_date = excluded.planned_date, window_start = excluded.window_start, window_end = excluded.window_end,
                subordinate_window_start = excluded.subordinate_window_start, subordinate_window_end = excluded.subordinate_window_end,
                submission_round = excluded.submission_round, exemption = excluded.exemption, scheduled_start = excluded.scheduled_start,
                scheduled_end = excluded.scheduled_end, is_postponed = excluded.is_postponed, convened_on = excluded.convened_on,
                days_late = excluded.days_late, plan_in_force_when_held = excluded.plan_in_force_when_held,
                recognised_by = excluded.recognised_by, resolution = excluded.resolution, version = excluded.version
            """, connection, transaction))
        {
            upsert.Parameters.AddPositional(
                states.Select(s => s.CongressId).ToArray(), states.Select(s => s.CampaignId).ToArray(), states.Select(s => s.OrganizationId).ToArray(),
                states.Select(s => s.SuperiorOrganizationId).ToArray(), states.Select(s => s.Stage.ToString()).ToArray(), states.Select(s => s.IsPilot).ToArray(),
                plans.Select(p => p.Document).ToArray(), plans.Select(p => p.PlannedDate).ToArray(), plans.Select(p => p.Window.Start).ToArray(),
                plans.Select(p => p.Window.End).ToArray(), plans.Select(p => p.SubordinateWindow?.Start).ToArray(), plans.Select(p => p.SubordinateWindow?.End).ToArray(),
                states.Select(s => s.SubmissionRound).ToArray(), states.Select(s => s.Exemption).ToArray(), states.Select(s => s.Schedule?.Start).ToArray(),
                states.Select(s => s.Schedule?.End).ToArray(), states.Select(s => s.IsPostponed).ToArray(), states.Select(s => s.Convened?.ConvenedOn).ToArray(),
                states.Select(s => s.Convened?.DaysLate).ToArray(), states.Select(s => s.Convened?.PlanInForce).ToArray(), states.Select(s => s.RecognisedBy).ToArray(),
                states.Select(s => s.Resolution).ToArray(), congresses.Select(c => c.Version).ToArray());
            await upsert.ExecuteNonQueryAsync();
        }

        await DeadlineReadModel.RederiveAsync(connection, transaction, states, today);
        if (congresses.SelectMany(c => Notices(c.Events, c.State)).ToList() is { Count: > 0 } notices)
        {
            await using var inbox = new NpgsqlBatch(connection, transaction) { BatchCommands = { InboxItems.Write(notices, now) } };
            await inbox.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Who hears of what: the superior of submissions, postponements and late congresses; the organisation of decisions.</summary>
    private static IEnumerable<InboxDelivery> Notices(IReadOnlyList<object> events, Congress state)
    {
        foreach (var e in events)
        {
            (string To, string Kind, string Text)? note = e switch
            {
                CongressSubmitted s => (s.SubmittedTo, "approval-requested", $"round {s.Round} submitted for approval"),
                SubmissionApproved a => (state.OrganizationId, "submission-approved", $"approved by {a.Decision}"),
                SubmissionReturned r => (state.OrganizationId, "submission-returned", r.Comments),
                CongressPostponed p when state.SuperiorOrganizationId is not null => (state.SuperiorOrganizationId, "congress-postponed", p.Reason),
                CongressConvened c when c.DaysLate > 0 && state.SuperiorOrganizationId is not null =>
                    (state.SuperiorOrganizationId, "congress-held-late", $"held {c.DaysLate} day(s) after the planned {c.PlannedDate:dd/MM/yyyy}"),
                _ => null,
            };
            if (note is { } n)
            {
                yield return new InboxDelivery(Guid.CreateVersion7(), n.To, null, n.Kind, NotificationText.EventTitle(n.Kind, state.OrganizationId), n.Text, state.CongressId);
            }
        }
    }

    private static string Name(CongressCommand command)
    {
        var name = command.GetType().Name;
        return string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
    }
}
