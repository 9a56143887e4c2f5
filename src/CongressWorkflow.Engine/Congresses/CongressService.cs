using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Outbox;
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
    public static readonly AggregateDefinition<Congress> Aggregate = new("congress", Congress.None, Congress.Evolve);

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
        var first = commands[0];
        var streamId = StreamOf(first);
        if (commands.Any(c => StreamOf(c) != streamId || c.Context != first.Context))
        {
            throw new ArgumentException("the steps of a sequence are one congress's, by one actor", nameof(commands));
        }

        return pipeline.ExecuteAsync(
            commands.Count == 1 ? Name(first) : "congress-steps", Aggregate, streamId, first.Context, expectedVersion,
            async (state, session) =>
            {
                var events = new List<object>();
                foreach (var command in commands)
                {
                    var decision = await DecideWithFactsAsync(command, state, session, cancellationToken);
                    if (decision is not Decision.Accepted accepted)
                    {
                        return decision;
                    }

                    events.AddRange(accepted.Events);
                    state = accepted.Events.Aggregate(state, Congress.Evolve);
                }

                return new Decision.Accepted(events);
            },
            ProjectStatusAsync, Notifications, correlationId, cancellationToken,
            afterAppend: commands.Any(c => c is IssuePlan or AmendPlan)
                ? (session, state, metadata) => PlanCascade.ChangeOf(state) is { } change
                    ? CascadeAsync(session, state, change, first.Context, metadata, cancellationToken)
                    : Task.CompletedTask
                : null);
    }

    private static string StreamOf(CongressCommand command) =>
        command is IssuePlan issue ? Congress.StreamId(issue.CampaignId, issue.OrganizationId) : command.CongressId;

    /// <summary>
    /// In the superior's transaction, after its own append: every congress not yet held whose nearest planned superior
    /// this is derives its plan again (<see cref="PlanCascade"/>), recorded in its own stream; where that moves its own
    /// window for subordinates, the cascade goes on below.
    /// </summary>
    private async Task CascadeAsync(
        CommandSession session, Congress superior, SubordinateWindowChange change, CommandContext context, EventMetadata metadata, CancellationToken cancellationToken)
    {
        var followers = await FollowUpAsync(pipeline.Store, session, """
            WITH root AS (SELECT path FROM congress.organizations WHERE organization_id = $2)
            SELECT c.congress_id
            FROM congress.congresses c JOIN congress.organizations o USING (organization_id) CROSS JOIN root
            WHERE c.campaign_id = $1 AND o.path <@ root.path AND o.path <> root.path AND c.convened_on IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM congress.congresses m JOIN congress.organizations mo USING (organization_id)
                  WHERE m.campaign_id = $1 AND m.subordinate_window_end IS NOT NULL
                    AND mo.path @> o.path AND mo.path <> o.path AND mo.path <@ root.path AND mo.path <> root.path)
            ORDER BY c.congress_id
            FOR UPDATE OF c
            """, [superior.CampaignId, superior.OrganizationId], id => new FollowSuperiorPlan(id, change, context), context, metadata, cancellationToken);
        foreach (var follower in followers)
        {
            if (PlanCascade.ChangeOf(follower) is { } further)
            {
                await CascadeAsync(session, follower, further, context, metadata, cancellationToken);
            }
        }
    }

    /// <summary>
    /// In an organisation's move, after its own event: each of its congresses (every campaign) records its new direct
    /// superior, so approvals, recognition and notices go to the committee it now sits under.
    /// </summary>
    public static Task FollowMoveAsync(
        PostgresEventStore store, CommandSession session, string organizationId, string newSuperiorId, CommandContext context, EventMetadata metadata,
        CancellationToken cancellationToken) =>
        FollowUpAsync(store, session, "SELECT congress_id FROM congress.congresses WHERE organization_id = $1 ORDER BY congress_id FOR UPDATE",
            [organizationId], id => new FollowNewSuperior(id, newSuperiorId, context), context, metadata, cancellationToken);

    /// <summary>
    /// What a command sets off in other congresses, in its transaction after its own append: the congresses the query
    /// names, their rows locked first (so none changes between load and append), each decided on by the Decider and,
    /// where that changed it, projected and appended. Returns the congresses that changed, as they are now.
    /// </summary>
    private static async Task<IReadOnlyList<Congress>> FollowUpAsync(
        PostgresEventStore store, CommandSession session, string lockingQuery, object?[] parameters, Func<string, CongressCommand> commandFor,
        CommandContext context, EventMetadata metadata, CancellationToken cancellationToken)
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

        var changed = new List<Congress>();
        foreach (var congressId in congressIds)
        {
            var (state, version) = await store.AggregateStreamAsync(congressId, Congress.None, Congress.Evolve, cancellationToken: cancellationToken);
            if (CongressDecider.Decide(commandFor(congressId), state) is not Decision.Accepted { Events.Count: > 0 } accepted)
            {
                continue;
            }

            var after = accepted.Events.Aggregate(state, Congress.Evolve);
            await ProjectStatusAsync(session.Connection, session.Transaction, accepted.Events, after, version + accepted.Events.Count, context);
            await store.AppendAsync(session.Connection, session.Transaction, congressId, Aggregate.StreamType, ExpectedVersion.Exactly(version),
                [.. accepted.Events.Select(e => new NewEvent(Guid.NewGuid(), e))], metadata, cancellationToken: cancellationToken);
            changed.Add(after);
        }

        return changed;
    }

    /// <summary>Planned congresses in the organisation's subtree whose window falls outside their nearest planned superior's.</summary>
    public async Task<IReadOnlyList<WindowConflict>> FindWindowConflictsAsync(string campaignId, string organizationId, CancellationToken cancellationToken = default)
    {
        await using var command = pipeline.DataSource.CreateCommand("""
            WITH sub AS (
                SELECT c.organization_id, c.window_start, c.window_end, c.subordinate_window_start, c.subordinate_window_end, o.path
                FROM congress.congresses c JOIN congress.organizations o USING (organization_id)
                WHERE c.campaign_id = $1 AND o.path <@ (SELECT path FROM congress.organizations WHERE organization_id = $2))
            SELECT s.organization_id, s.window_start, s.window_end, a.organization_id, a.subordinate_window_start, a.subordinate_window_end
            FROM sub s
            JOIN LATERAL (
                SELECT p.* FROM sub p
                WHERE p.path @> s.path AND p.path <> s.path AND p.subordinate_window_start IS NOT NULL
                ORDER BY nlevel(p.path) DESC LIMIT 1) a ON true
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
    /// The facts a congress command decides on, read in its own transaction under locks: the organisation's row (shared
    /// for a plan, so it cannot be dissolved or moved meanwhile; for update when convening, so no subordinate registers
    /// meanwhile) and the superiors' congress rows (shared, so their windows cannot be amended meanwhile).
    /// </summary>
    private async Task<Decision> DecideWithFactsAsync(CongressCommand command, Congress state, CommandSession session, CancellationToken cancellationToken)
    {
        var withFacts = command switch
        {
            IssuePlan issue => await WithPlanFactsAsync(issue, session, cancellationToken),
            AmendPlan amend when state.Stage != CongressStage.NotPlanned => amend with
            {
                SuperiorSubordinateWindow = await InheritedWindowAsync(session, state.CampaignId, state.SuperiorOrganizationId, amend.EffectiveOn, cancellationToken),
            },
            ConveneCongress convene when state.Stage != CongressStage.NotPlanned => convene with
            {
                IncompleteSubordinates = await IncompleteSubordinatesAsync(session, state.CampaignId, state.OrganizationId, cancellationToken),
            },
            _ => command,
        };
        return CongressDecider.Decide(withFacts, state);
    }

    private async Task<IssuePlan> WithPlanFactsAsync(IssuePlan command, CommandSession session, CancellationToken cancellationToken)
    {
        await using (var organization = new NpgsqlCommand(
            "SELECT parent_id, is_dissolved FROM congress.organizations WHERE organization_id = $1 FOR SHARE", session.Connection, session.Transaction))
        {
            organization.Parameters.Add(new() { Value = command.OrganizationId });
            await using var reader = await organization.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken) || reader.GetBoolean(1))
            {
                throw new CommandRejectedException(new DomainError(OrganizationErrors.NotRegistered,
                    $"there is no active organisation '{command.OrganizationId}' to plan a congress for"));
            }

            command = command with
            {
                CongressId = Congress.StreamId(command.CampaignId, command.OrganizationId),
                SuperiorOrganizationId = reader.IsDBNull(0) ? null : reader.GetString(0),
            };
        }

        if (!await CampaignService.ExistsAsync(session, command.CampaignId, cancellationToken))
        {
            throw new CommandRejectedException(new DomainError(CampaignErrors.NotStarted, $"there is no campaign '{command.CampaignId}'"));
        }

        return command with
        {
            SuperiorSubordinateWindow = await InheritedWindowAsync(session, command.CampaignId, command.SuperiorOrganizationId, command.IssuedOn, cancellationToken),
        };
    }

    /// <summary>The window for subordinates in the plan in force on a date at the nearest planned superior, walking up.</summary>
    private async Task<DateWindow?> InheritedWindowAsync(CommandSession session, string campaignId, string? superiorId, DateOnly on, CancellationToken cancellationToken)
    {
        if (superiorId is null)
        {
            return null;
        }

        // The superiors' congress rows, share-locked: an amendment of their plans waits for this command, or is seen by it.
        var superiors = (await OrganizationTree.AncestryAsync(session, superiorId, cancellationToken)).Reverse().Select(a => a.Id).ToList();

        await using (var share = new NpgsqlCommand(
            "SELECT 1 FROM congress.congresses WHERE campaign_id = $1 AND organization_id = ANY($2) ORDER BY congress_id FOR SHARE", session.Connection, session.Transaction))
        {
            share.Parameters.Add(new() { Value = campaignId });
            share.Parameters.Add(new() { Value = superiors.ToArray() });
            await share.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var ancestor in superiors)
        {
            var (superior, _) = await LoadAsync(Congress.StreamId(campaignId, ancestor), cancellationToken);
            if (superior.PlanInForce(on)?.SubordinateWindow is { } window)
            {
                return window;
            }
        }

        return null;
    }

    /// <summary>Direct subordinates not yet convened, counted after locking the organisation's row: no subordinate registers meanwhile.</summary>
    private static async Task<IReadOnlyList<string>> IncompleteSubordinatesAsync(CommandSession session, string campaignId, string organizationId,
        CancellationToken cancellationToken)
    {
        await using (var lockRow = new NpgsqlCommand(
            "SELECT 1 FROM congress.organizations WHERE organization_id = $1 FOR UPDATE", session.Connection, session.Transaction))
        {
            lockRow.Parameters.Add(new() { Value = organizationId });
            await lockRow.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand("""
            SELECT o.organization_id FROM congress.organizations o
            LEFT JOIN congress.congresses c ON c.organization_id = o.organization_id AND c.campaign_id = $2
            WHERE o.parent_id = $1 AND NOT o.is_dissolved AND c.convened_on IS NULL
            ORDER BY o.organization_id
            """, session.Connection, session.Transaction);
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = campaignId });
        var incomplete = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            incomplete.Add(reader.GetString(0));
        }

        return incomplete;
    }

    /// <summary>Keeps congress.congresses equal to the congress's state after the command.</summary>
    public static async Task ProjectStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, Congress state, long version, CommandContext context)
    {
        var plan = state.Plans[^1];
        await OrganizationTree.ExecuteAsync(connection, transaction, """
            INSERT INTO congress.congresses (congress_id, campaign_id, organization_id, superior_organization_id, stage, is_pilot,
                plan_document, planned_date, window_start, window_end, subordinate_window_start, subordinate_window_end, submission_round,
                exemption, scheduled_start, scheduled_end, is_postponed, convened_on, days_late, plan_in_force_when_held, recognised_by,
                resolution, version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
            ON CONFLICT (congress_id) DO UPDATE SET stage = excluded.stage, superior_organization_id = excluded.superior_organization_id,
                plan_document = excluded.plan_document,
                planned_date = excluded.planned_date, window_start = excluded.window_start, window_end = excluded.window_end,
                subordinate_window_start = excluded.subordinate_window_start, subordinate_window_end = excluded.subordinate_window_end,
                submission_round = excluded.submission_round, exemption = excluded.exemption, scheduled_start = excluded.scheduled_start,
                scheduled_end = excluded.scheduled_end, is_postponed = excluded.is_postponed, convened_on = excluded.convened_on,
                days_late = excluded.days_late, plan_in_force_when_held = excluded.plan_in_force_when_held,
                recognised_by = excluded.recognised_by, resolution = excluded.resolution, version = excluded.version
            """,
            state.CongressId, state.CampaignId, state.OrganizationId, state.SuperiorOrganizationId, state.Stage.ToString(), state.IsPilot,
            plan.Document, plan.PlannedDate, plan.Window.Start, plan.Window.End, plan.SubordinateWindow?.Start, plan.SubordinateWindow?.End,
            state.SubmissionRound, state.Exemption, state.Schedule?.Start, state.Schedule?.End, state.IsPostponed,
            state.Convened?.ConvenedOn, state.Convened?.DaysLate, state.Convened?.PlanInForce, state.RecognisedBy,
            state.Resolution, version);
        await DeadlineReadModel.RederiveAsync(connection, transaction, state, context.Today);
    }

    /// <summary>Who hears of what: the superior of submissions, postponements and late congresses; the organisation of decisions.</summary>
    private static IReadOnlyList<OutboxMessage> Notifications(IReadOnlyList<object> events, Congress state)
    {
        var messages = new List<OutboxMessage>();
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
                var id = Guid.NewGuid();
                messages.Add(new OutboxMessage(id, DeliveryChannels.Inbox, "congress." + n.Kind,
                    new InboxDelivery(id, n.To, null, n.Kind, NotificationText.EventTitle(n.Kind, state.OrganizationId), n.Text, state.CongressId)));
            }
        }

        return messages;
    }

    private static string Name(CongressCommand command)
    {
        var name = command.GetType().Name;
        return string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
    }
}
