using System.Diagnostics;
using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.Engine.Time;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Simulation;

/// <summary>Where a simulation has got to: the phase, how much of it is done, and the simulated day.</summary>
public sealed record SimulationProgress(string Phase, long Done, long Total, DateOnly? Day);

/// <summary>
/// Plays a <see cref="SimulatedCampaign"/> through the real command handlers (the same services the API calls), in
/// simulated time: its own clock, so every event is recorded on the simulated day and the reports as of any day, on
/// both axes, read like those of a real campaign. Phases: the tree (one import), the campaign, the plans (top-down), then
/// day by day the deadline sweep (reminders, alerts, escalations) and what each unit does that day. Resumable: each
/// finished day is recorded in <c>congress.simulations</c>, and a step repeated after a crash is refused by the rules
/// (already planned, already submitted, already held) and counted as done, so a rerun carries on where it stopped.
/// </summary>
public sealed class CampaignSimulation
{
    public const string PhaseTree = "tree";
    public const string PhasePlans = "plans";
    public const string PhaseDays = "days";

    private readonly SimulatedCampaign _campaign;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(SimulatedCampaign.Directive.ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero));
    private readonly OrganizationImport _import;
    private readonly CampaignService _campaigns;
    private readonly CongressService _congresses;
    private readonly DeadlineSweep _sweep;
    private readonly int _parallelism;
    private readonly int _treeFileRows;
    // What the days need to know of every unit, by its index (a national campaign has 300,000: kept in arrays, not by id).
    private readonly bool[] _held;
    private readonly int[] _subordinates;
    private readonly int[] _subordinatesHeld;
    private readonly HashSet<int> _waiting = [];

    public CampaignSimulation(NpgsqlDataSource dataSource, SimulatedCampaign campaign, int parallelism = 4, int treeFileRows = 20_000)
    {
        _dataSource = dataSource;
        _campaign = campaign;
        _parallelism = parallelism;
        _treeFileRows = treeFileRows;
        var store = new PostgresEventStore(dataSource, DomainEventTypes.CreateRegistry(), _clock);
        var pipeline = new CommandPipeline(store, dataSource);
        var tree = new OrganizationTree(dataSource);
        _import = new OrganizationImport(pipeline, tree);
        _campaigns = new CampaignService(pipeline);
        _congresses = new CongressService(pipeline);
        _sweep = new DeadlineSweep(store, dataSource, _clock, campaign.CampaignId);
        _held = new bool[campaign.Units.Count];
        _subordinates = new int[campaign.Units.Count];
        _subordinatesHeld = new int[campaign.Units.Count];
        foreach (var unit in campaign.Units.Where(u => u.Parent is not null))
        {
            _subordinates[unit.Parent!.Index]++;
        }
    }

    /// <summary>Commands refused because they had already been carried out (a resumed day): counted, not errors.</summary>
    public long Repeated => Interlocked.Read(ref _repeated);

    private long _repeated;

    public async Task RunAsync(IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var reached = await StartOrResumeAsync(cancellationToken);
        await PrepareAsync(progress, cancellationToken);
        await LoadHeldAsync(cancellationToken);

        var days = SimulatedCampaign.LastDay.DayNumber - SimulatedCampaign.FirstDay.DayNumber + 1;
        var actions = ScheduleByDay();
        for (var day = SimulatedCampaign.FirstDay.AddDays(1); day <= SimulatedCampaign.LastDay; day = day.AddDays(1))
        {
            if (reached is { } done && day <= done)
            {
                foreach (var action in actions.GetValueOrDefault(day, []).Select(Unpack).Where(a => a.Kind == ActionKind.Convene))
                {
                    _waiting.Add(action.Unit.Index);
                }

                _waiting.RemoveWhere(i => _held[i]);
                continue;
            }

            await PlayDayAsync(day, [.. actions.GetValueOrDefault(day, []).Select(Unpack)], cancellationToken);
            await RecordDayAsync(day, cancellationToken);
            progress?.Report(new SimulationProgress(PhaseDays, day.DayNumber - SimulatedCampaign.FirstDay.DayNumber + 1, days, day));
        }

        await FinishAsync(cancellationToken);
    }

    /// <summary>
    /// The phases before the first day: the tree imported, the campaign started and every unit's plan issued (each
    /// skipped where an earlier run did it). A campaign planned and not yet begun, for a benchmark of what comes next.
    /// </summary>
    public async Task PrepareAsync(IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await ImportTreeAsync(progress, cancellationToken);
        await PlanAsync(progress, cancellationToken);
    }

    private enum ActionKind
    {
        Submit,
        Return,
        Resubmit,
        Approve,
        Postpone,
        Reschedule,
        Widen,
        Convene,
    }

    private readonly record struct Action(ActionKind Kind, SimulatedUnit Unit);

    /// <summary>An action as the schedule keeps it: the unit's index and the kind in one number (eight kinds, three bits).</summary>
    private static int Pack(ActionKind kind, SimulatedUnit unit) => unit.Index << 3 | (int)kind;

    private Action Unpack(int packed) => new((ActionKind)(packed & 7), _campaign.Units[packed >> 3]);

    /// <summary>
    /// Each unit's steps on their days, in the order they are taken: submission two weeks before the congress, a return
    /// and a resubmission for some, approval a week before, the wave's postponements. Packed (some 1.3 million at 300,000
    /// organisations).
    /// </summary>
    private Dictionary<DateOnly, List<int>> ScheduleByDay()
    {
        var byDay = new Dictionary<DateOnly, List<int>>();
        void On(DateOnly day, ActionKind kind, SimulatedUnit unit)
        {
            var clamped = day <= SimulatedCampaign.FirstDay ? SimulatedCampaign.FirstDay.AddDays(1) : day;
            (byDay.TryGetValue(clamped, out var list) ? list : byDay[clamped] = []).Add(Pack(kind, unit));
        }

        foreach (var unit in _campaign.Units.Where(u => u.Level != OrganizationLevel.Central))
        {
            var submitted = unit.HeldOn.AddDays(-14);
            On(submitted, ActionKind.Submit, unit);
            var approved = unit.HeldOn.AddDays(-7);
            if (unit.Returned)
            {
                On(submitted.AddDays(2), ActionKind.Return, unit);
                On(submitted.AddDays(4), ActionKind.Resubmit, unit);
                approved = approved > submitted.AddDays(5) ? approved : submitted.AddDays(5);
            }

            On(approved, ActionKind.Approve, unit);
            if (unit.PostponedOn is { } postponed)
            {
                On(postponed, ActionKind.Postpone, unit);
                On(unit.ResumedOn!.Value, ActionKind.Reschedule, unit);
            }

            On(unit.HeldOn > approved ? unit.HeldOn : approved, ActionKind.Convene, unit);
        }

        foreach (var committee in _campaign.CommitteesWideningTheirWindow())
        {
            On(SimulatedCampaign.WideningDay, ActionKind.Widen, committee);
        }

        On(_campaign.Root.HeldOn, ActionKind.Convene, _campaign.Root);
        return byDay;
    }

    private async Task PlayDayAsync(DateOnly day, List<Action> actions, CancellationToken cancellationToken)
    {
        SetClock(day, 1);
        await _sweep.RunAsync(cancellationToken);
        SetClock(day, 2);

        // Every unit's own steps of the day (in the order above): the first of each unit's in one round of batches, then the second...
        var byUnit = actions.Where(a => a.Kind != ActionKind.Convene).GroupBy(a => a.Unit.Index).Select(g => g.OrderBy(a => a.Kind).ToList()).ToList();
        for (var round = 0; byUnit.Any(steps => steps.Count > round); round++)
        {
            await RunAsync([.. byUnit.Where(steps => steps.Count > round).Select(steps => steps[round])], step => Steps(step, day), cancellationToken);
        }

        // Then the congresses due, bottom-up: a committee convenes once every subordinate has; the others wait.
        foreach (var convene in actions.Where(a => a.Kind == ActionKind.Convene))
        {
            _waiting.Add(convene.Unit.Index);
        }

        foreach (var level in _waiting.Select(i => _campaign.Units[i]).GroupBy(u => u.Level).OrderByDescending(g => g.Key).ToList())
        {
            var ready = level.Where(u => _subordinatesHeld[u.Index] == _subordinates[u.Index]).ToList();
            await RunAsync(ready, u => CongressDay(u, day), cancellationToken);
            // The superiors recognise the results (a congress held before a restart has them recognised already: refused, counted).
            await RunAsync([.. ready.Where(u => u.Parent is not null)], u =>
                [new RecogniseResults(Congress.StreamId(_campaign.CampaignId, u.Id), Document("QĐ", u.Id), Context(u.ParentId!, Roles.Committee))], cancellationToken);
            foreach (var unit in ready)
            {
                MarkHeld(unit);
            }

            _waiting.RemoveWhere(i => _held[i]);
        }
    }

    /// <summary>One unit's step of the day, as the sequence its actor carries out in one go.</summary>
    private IReadOnlyList<CongressCommand> Steps(Action step, DateOnly day)
    {
        var unit = step.Unit;
        var congress = Congress.StreamId(_campaign.CampaignId, unit.Id);
        var me = Context(unit.Id);
        var superior = unit.ParentId is null ? me : Context(unit.ParentId, Roles.Committee);
        return step.Kind switch
        {
            // The secretariat's day of preparation, all or none: a resumed day finds it done or not at all.
            ActionKind.Submit =>
            [
                new FormSubcommittee(congress, SubcommitteeKind.Documents, "Trưởng Tiểu ban Văn kiện", 5, me),
                new FormSubcommittee(congress, SubcommitteeKind.Personnel, "Trưởng Tiểu ban Nhân sự", 3, me),
                new FormSubcommittee(congress, SubcommitteeKind.OrganisationService, "Trưởng Tiểu ban Tổ chức – Phục vụ", 4, me),
                new PrepareDraft(congress, DraftKind.PoliticalReport, me),
                new PrepareDraft(congress, DraftKind.ReviewReport, me),
                new CollectComments(congress, DraftKind.PoliticalReport, 5, 17, me),
                new PreparePersonnelPlan(congress, 11, 13, 3, 1, me),
                new SubmitToSuperior(congress, me),
            ],
            ActionKind.Return => [new ReturnSubmission(congress, "Bổ sung cơ cấu cán bộ nữ và cán bộ trẻ trong đề án nhân sự", superior)],
            ActionKind.Resubmit => [new SubmitToSuperior(congress, me)],
            ActionKind.Approve => [new ApproveSubmission(congress, Document("QĐ", unit.Id), superior)],
            // The congress had been set for three days later when the wave stopped it (the simulation schedules no other).
            ActionKind.Postpone =>
                [new ScheduleCongress(congress, new DateWindow(day.AddDays(3), day.AddDays(3)), me), new PostponeCongress(congress, "COVID-19: thực hiện giãn cách xã hội", me)],
            ActionKind.Reschedule => [new RescheduleCongress(congress, new DateWindow(unit.HeldOn, unit.HeldOn), "Hết giãn cách xã hội", me)],
            // Like 12-KH/ĐU: the committee moves its own congress back and gives its branches until a week before it.
            ActionKind.Widen => [Widening(unit, day, congress, me)],
            _ => throw new UnreachableException(),
        };
    }

    private static AmendPlan Widening(SimulatedUnit unit, DateOnly day, string congress, CommandContext me)
    {
        var planned = unit.PlannedDate.AddDays(21) < unit.Window.End ? unit.PlannedDate.AddDays(21) : unit.Window.End;
        return new AmendPlan(congress, Document("KH", unit.Id), day, planned, unit.Window, new DateWindow(unit.SubordinateWindow!.Start, planned.AddDays(-7)),
            Deadlines(planned, unit.Window), null, me);
    }

    /// <summary>The congress, its elections and (above a branch) its resolution: one sequence, by the unit itself.</summary>
    private IReadOnlyList<CongressCommand> CongressDay(SimulatedUnit unit, DateOnly day)
    {
        var congress = Congress.StreamId(_campaign.CampaignId, unit.Id);
        var me = Context(unit.Id);
        var (members, delegates) = unit.Level switch
        {
            OrganizationLevel.Branch => (12, 12),
            OrganizationLevel.Grassroots => (180, 100),
            OrganizationLevel.Ministry => (7_000, 300),
            _ => (80_000, 450),
        };
        var branch = unit.Level == OrganizationLevel.Branch;
        List<CongressCommand> congressDay =
        [
            new ConveneCongress(congress, day, delegates - 1, delegates, _subordinates[unit.Index], members, [], me),
            new RecordElections(congress, new ElectionResults(branch ? 3 : 11, branch ? 0 : 3, $"Bí thư {unit.Name}", 1, branch ? 0 : 3,
                branch ? null : "Chủ nhiệm UBKT", 2, 0), me),
        ];
        if (!branch)
        {
            congressDay.Add(new IssueResolution(congress, Document("NQ", unit.Id), me));
        }

        return congressDay;
    }

    /// <summary>How many congresses' sequences one transaction decides and writes, at most.</summary>
    private const int BatchSize = 1_000;

    /// <summary>The fewest sequences worth a transaction of their own when a stage is split to keep every core busy.</summary>
    private const int MinBatchSize = 250;

    /// <summary>
    /// A stage's sequences (one made from each item as its batch is taken: a day's are never all held at once) in
    /// batches (<see cref="CongressService.HandleBatchAsync"/>), a few side by side. A step refused because it had already
    /// been carried out (a resumed day) or overtaken by the unit's other steps is counted, not an error; any other refusal
    /// stops the simulation.
    /// </summary>
    private async Task RunAsync<T>(IReadOnlyList<T> items, Func<T, IReadOnlyList<CongressCommand>> sequenceOf, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(Batches(items.Count), new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = cancellationToken },
            async (range, ct) =>
            {
                var batch = new IReadOnlyList<CongressCommand>[range.Count];
                for (var i = 0; i < range.Count; i++)
                {
                    batch[i] = sequenceOf(items[range.Start + i]);
                }

                foreach (var outcome in await _congresses.HandleBatchAsync(batch, ct))
                {
                    if (outcome.Refusal is { Code: CongressErrors.AlreadyPlanned or CongressErrors.WrongStage or CongressErrors.NotPostponed or CongressErrors.Postponed
                            or CongressErrors.SameDocument })
                    {
                        Interlocked.Increment(ref _repeated);
                    }
                    else if (outcome.Refusal is { } refusal)
                    {
                        throw new CommandRejectedException(refusal);
                    }
                }
            });
    }

    /// <summary>
    /// The batches of a stage of this many sequences, of about one size: none over <see cref="BatchSize"/>, and as many
    /// as the cores can run side by side when each still holds <see cref="MinBatchSize"/> (a stage of 600 congresses ran
    /// as one batch on one core while the other waited).
    /// </summary>
    private IEnumerable<(int Start, int Count)> Batches(int count)
    {
        var batches = Math.Max((count + BatchSize - 1) / BatchSize, Math.Min(Math.Min(_parallelism, Environment.ProcessorCount), count / MinBatchSize));
        for (var i = 0; i < batches; i++)
        {
            var start = (int)((long)count * i / batches);
            yield return (start, (int)((long)count * (i + 1) / batches) - start);
        }
    }

    private async Task ImportTreeAsync(IProgress<SimulationProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new SimulationProgress(PhaseTree, 0, _campaign.Units.Count, null));
        SetClock(SimulatedCampaign.Directive, 2);
        // In files of a bounded size, as the blocs would send theirs: one import holds its whole file in memory, and
        // re-importing a file already imported (a resumed run) changes nothing.
        var imported = 0;
        foreach (var (csv, rows) in _campaign.TreeCsvFiles(_treeFileRows))
        {
            var report = await _import.ImportAsync(csv, ImportFormat.Csv, Context(_campaign.RootId, Roles.Admin), cancellationToken);
            if (!report.Succeeded)
            {
                throw new InvalidOperationException("the simulated tree did not import: " + string.Join("; ", report.Errors.Take(5).Select(e => $"line {e.Line}: {e.Reason}")));
            }

            imported += rows;
            progress?.Report(new SimulationProgress(PhaseTree, imported, _campaign.Units.Count, null));
        }

        if (!await CampaignService.ExistsAsync(_dataSource, _campaign.CampaignId, cancellationToken))
        {
            await _campaigns.StartAsync(new StartCampaign(_campaign.CampaignId, $"Đại hội các cấp (mô phỏng {_campaign.Size:N0} tổ chức)",
                DocumentReference.Parse("35-CT/TW"), 2020, 2025, 2022, Context(_campaign.RootId, Roles.Admin)), cancellationToken);
        }
    }

    /// <summary>Plans top-down, level by level (a unit's window is checked against its superior's), the units of a level in batches.</summary>
    private async Task PlanAsync(IProgress<SimulationProgress>? progress, CancellationToken cancellationToken)
    {
        SetClock(SimulatedCampaign.FirstDay, 2);
        var planned = await PlannedAsync(cancellationToken);
        long done = planned.Count;
        foreach (var level in _campaign.Units.GroupBy(u => u.Level).OrderBy(g => g.Key))
        {
            foreach (var part in level.Where(u => !planned.Contains(u.Id)).Chunk(BatchSize * _parallelism))
            {
                await RunAsync(part, unit => [new IssuePlan(Congress.StreamId(_campaign.CampaignId, unit.Id), _campaign.CampaignId,
                    unit.Id, null, DocumentReference.Parse($"{StableNumber(unit.Id)}-KH/{(unit.Level == OrganizationLevel.Central ? "TW" : "ĐU")}"),
                    DocumentReference.Parse("35-CT/TW"), SimulatedCampaign.FirstDay, unit.PlannedDate, unit.Window, unit.SubordinateWindow,
                    Deadlines(unit.PlannedDate, unit.Window), unit.IsPilot, null, Context(unit.Id))], cancellationToken);
                done += part.Length;
                progress?.Report(new SimulationProgress(PhasePlans, done, _campaign.Units.Count, null));
            }
        }

        progress?.Report(new SimulationProgress(PhasePlans, _campaign.Units.Count, _campaign.Units.Count, null));
    }

    private static IReadOnlyList<Deadline> Deadlines(DateOnly planned, DateWindow window) =>
        [new Deadline(Milestone.SubmittedToSuperior, planned.AddDays(-14)), new Deadline(Milestone.CongressHeld, window.End)];

    private async Task<HashSet<string>> PlannedAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT organization_id FROM congress.congresses WHERE campaign_id = $1");
        command.Parameters.Add(new() { Value = _campaign.CampaignId });
        var planned = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            planned.Add(reader.GetString(0));
        }

        return planned;
    }

    private async Task LoadHeldAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT organization_id FROM congress.congresses WHERE campaign_id = $1 AND convened_on IS NOT NULL");
        command.Parameters.Add(new() { Value = _campaign.CampaignId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var held = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add(reader.GetString(0));
        }

        foreach (var unit in held.Count == 0 ? [] : _campaign.Units.Where(u => held.Contains(u.Id)))
        {
            MarkHeld(unit);
        }
    }

    /// <summary>Its congress held: its superior has one subordinate fewer to wait for.</summary>
    private void MarkHeld(SimulatedUnit unit)
    {
        if (!_held[unit.Index])
        {
            _held[unit.Index] = true;
            if (unit.Parent is { } parent)
            {
                _subordinatesHeld[parent.Index]++;
            }
        }
    }

    /// <summary>The last day finished by an earlier run of this simulation; registers it when new.</summary>
    private async Task<DateOnly?> StartOrResumeAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO congress.simulations (simulation_id, size, seed, started_at) VALUES ($1, $2, $3, now())
            ON CONFLICT (simulation_id) DO UPDATE SET finished_at = NULL
            RETURNING day_reached
            """);
        command.Parameters.AddPositional(_campaign.CampaignId, _campaign.Size, _campaign.Seed);
        var reached = await command.ExecuteScalarAsync(cancellationToken);
        if (reached is DateOnly day)
        {
            _clock.SetUtcNow(new DateTimeOffset(day.ToDateTime(new TimeOnly(23, 0)), TimeSpan.Zero));
            return day;
        }

        return null;
    }

    private async Task RecordDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("UPDATE congress.simulations SET day_reached = $2 WHERE simulation_id = $1");
        command.Parameters.AddPositional(_campaign.CampaignId, day);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task FinishAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("UPDATE congress.simulations SET finished_at = now() WHERE simulation_id = $1");
        command.Parameters.AddPositional(_campaign.CampaignId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Simulated time only moves forward; steps of a day are recorded in the morning of that day.</summary>
    private void SetClock(DateOnly day, int hour)
    {
        var moment = new DateTimeOffset(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);
        if (moment > _clock.GetUtcNow())
        {
            _clock.SetUtcNow(moment);
        }
    }

    private CommandContext Context(string organizationId, string role = Roles.Secretariat) =>
        new("mo-phong@" + organizationId, role, organizationId, _clock.GetUtcNow());

    /// <summary>A unit's document of a kind (a decision on it, its resolution, its amendment), numbered the same in every run.</summary>
    private static DocumentReference Document(string type, string unitId) => DocumentReference.Parse($"{StableNumber(type + unitId)}-{type}/ĐU");

    private static int StableNumber(string text) => 1 + ((text.Aggregate(17, (hash, c) => unchecked(hash * 31 + c)) & int.MaxValue) % 9_999);
}
