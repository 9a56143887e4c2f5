using System.Globalization;
using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.Testing;
using Xunit.Abstractions;

namespace CongressWorkflow.Engine.Tests;

/// <summary>
/// A generated campaign (random but seeded) played through the real command handlers, with moves, renames,
/// dissolutions, plan amendments (the unit's own, back-dated, future and a superior's that cascades), postponements and
/// congresses entered days late. For random subtrees, days and moments of knowledge, every monitoring report equals what
/// an independent replay of the stored events computes, written here from the definitions without the projection or
/// its SQL: the tree of that moment, each congress folded from what it had stated by the day and recorded by the moment.
/// </summary>
public sealed class as_of_reports_against_an_independent_replay(EngineDatabase db, ITestOutputHelper output) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    private const string Campaign = "diff";
    private const string Central = "tw";
    private const int Samples = 100;
    private static readonly DateOnly FirstDay = new(2020, 1, 1);
    private static readonly DateOnly LastDay = new(2020, 12, 31);

    private readonly Random _random = new(20200515);
    private readonly Dictionary<string, OrganizationLevel> _levels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _parents = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dissolved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateOnly> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateOnly> _postponedUntil = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateOnly HeldOn, DateOnly EnteredOn)> _enteredLate = new(StringComparer.Ordinal);
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);
    private int _documents = 100;

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task every_report_as_of_any_day_and_moment_equals_a_replay_of_the_events()
    {
        await GenerateAsync();
        var events = await db.Store.ReadAllAsync(0, int.MaxValue);
        var kinds = events.GroupBy(e => e.EventType).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        output.WriteLine(string.Join(", ", kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}")));
        // The history holds each kind of change the reports must see through.
        foreach (var kind in new[] { "organization.moved", "organization.renamed", "organization.dissolved", "congress.plan-amended", "congress.postponed",
                     "congress.rescheduled", "congress.convened" })
        {
            Assert.True(kinds.GetValueOrDefault(kind) > 0, $"the generated history has no {kind}");
        }

        Assert.Contains(events, e => e.Data is CongressPlanAmended { FollowsSuperior: not null });
        Assert.Contains(events, e => e.Data is CongressConvened c && DateOnly.FromDateTime(e.RecordedAt.UtcDateTime) > c.ConvenedOn.AddDays(1));
        Assert.Contains(events, e => e.Data is CongressPlanAmended a && DateOnly.FromDateTime(e.RecordedAt.UtcDateTime) > a.Terms.EffectiveOn.AddDays(1));

        await using var daemon = new ProjectionDaemon(db.DataSource, db.Store, [new ProgressProjection()],
            // Small batches: the counts are kept batch by batch, and a unit's history spread over many of them is what can go wrong.
            new ProjectionDaemonOptions { BatchSize = 13, PollInterval = TimeSpan.FromMilliseconds(20) });
        daemon.Start();
        await CatchUpAsync(events[^1].GlobalPosition);

        var queries = new ProgressQueries(db.DataSource);
        var replay = new IndependentReplay(events);
        var roots = _levels.Where(l => l.Value < OrganizationLevel.Branch).Select(l => l.Key).Order(StringComparer.Ordinal).ToList();
        var compared = 0;
        for (var sample = 0; sample < Samples; sample++)
        {
            var root = roots[_random.Next(roots.Count)];
            var day = new DateOnly(2019, 12, 1).AddDays(_random.Next(420));
            DateTimeOffset? knownAt = _random.Next(3) switch
            {
                0 => null,
                1 => EndOf(day).AddSeconds(-1),
                _ => new DateTimeOffset(2019, 11, 1, 0, 0, 0, TimeSpan.Zero).AddHours(_random.Next(430 * 24)),
            };
            var because = $"root {root}, as of {day:yyyy-MM-dd}, known at {knownAt?.ToString("O", CultureInfo.InvariantCulture) ?? "now"}";
            var expected = replay.Report(root, day, knownAt);

            var report = (await queries.RollupAsync(Campaign, root, day, knownAt))!;
            Assert.True(expected.Levels.SequenceEqual(report.Levels), $"{because}: levels\nreplay {string.Join(" ", expected.Levels)}\nreport {string.Join(" ", report.Levels)}");
            Assert.True(expected.Subordinates == report.Subordinates && expected.Completion == report.Completion,
                $"{because}: {expected.Subordinates} {expected.Completion} vs {report.Subordinates} {report.Completion}");
            if (expected.Name is { } name)
            {
                Assert.Equal(name, report.Name);
            }

            var rows = (await queries.SubordinatesAsync(Campaign, root, day, knownAt)).OrderBy(r => r.OrganizationId, StringComparer.Ordinal)
                .Select(r => (r.OrganizationId, r.Name, r.Level, r.Units, r.Held, r.Overdue, r.HeldOn, r.DaysLate));
            Assert.True(expected.Rows.SequenceEqual(rows), $"{because}: drill-down\nreplay {string.Join(" ", expected.Rows)}\nreport {string.Join(" ", rows)}");

            var overdue = (await queries.OverdueAsync(Campaign, root, day, knownAt)).Select(o => (o.OrganizationId, o.Deadline)).Order();
            Assert.True(expected.Overdue.Order().SequenceEqual(overdue), $"{because}: overdue");

            var upcoming = (await queries.UpcomingAsync(Campaign, root, day, 30, knownAt)).Select(o => (o.OrganizationId, o.PlannedDate)).Order();
            Assert.True(expected.Upcoming.Order().SequenceEqual(upcoming), $"{because}: upcoming");

            var timeline = await queries.TimelineAsync(Campaign, root, day.AddDays(-3), day.AddDays(3), knownAt: knownAt);
            var independent = Enumerable.Range(-3, 7).Select(d => replay.Report(root, day.AddDays(d), knownAt)).Select(r => new TimelinePoint(r.Day, r.Held, r.Planned));
            Assert.True(independent.SequenceEqual(timeline), $"{because}: timeline\nreplay {string.Join(" ", independent)}\nreport {string.Join(" ", timeline)}");
            compared += expected.Levels.Sum(l => l.Total);
        }

        output.WriteLine($"{events.Count} events; {Samples} samples covering {compared} unit-days");
        Assert.True(compared > 500, "the samples should cover a good part of the tree");

        // The day-by-day counts kept batch by batch (the reports above without knownAt read them) are those a rebuild computes in one go.
        var kept = await CountsAsync();
        await using (var rebuild = db.DataSource.CreateCommand(
            $"UPDATE event_store.projection_checkpoints SET rebuild_requested = true WHERE projection = '{ProgressProjection.ProjectionName}'"))
        {
            await rebuild.ExecuteNonQueryAsync();
        }

        await Task.Delay(200);
        await CatchUpAsync(events[^1].GlobalPosition);
        var recomputed = await CountsAsync();
        Assert.True(kept.Count > 300, $"only {kept.Count} counts");
        Assert.Equal(recomputed, kept);
    }

    /// <summary>The progress projection's counts, net of those that came back to zero, in a stable order.</summary>
    private async Task<List<string>> CountsAsync()
    {
        await using var command = db.DataSource.CreateCommand("""
            SELECT concat_ws(' ', ancestor_key, campaign_id, day, level, status, held_on, sum(delta)) FROM congress.rollup_counts
            GROUP BY ancestor_key, campaign_id, day, level, status, held_on HAVING sum(delta) <> 0 ORDER BY 1
            """);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private async Task CatchUpAsync(long head)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await ProjectionDaemon.StatusAsync(db.DataSource)).SingleOrDefault(s => s.Name == ProgressProjection.ProjectionName) is not { Position: var position, State: ProjectionState.Running }
               || position < head)
        {
            Assert.True(DateTime.UtcNow < deadline, "the progress projection did not catch up");
            await Task.Delay(50);
        }
    }

    private static DateTimeOffset EndOf(DateOnly day) => new(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    // ---- The generated campaign, through the real command handlers ----

    private DateOnly Today => DateOnly.FromDateTime(db.Clock.GetUtcNow().UtcDateTime);

    private void On(DateOnly day) => db.Clock.SetUtcNow(new DateTimeOffset(day.ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero).AddMinutes(_random.Next(600)));

    private CommandContext Admin => db.As(Central, "organisation-department");

    private static string CongressOf(string organizationId) => Congress.StreamId(Campaign, organizationId);

    private DocumentReference NextPlanDocument() => DocumentReference.Parse($"{_documents++}-KH/ĐU");

    private DateOnly Between(DateOnly first, DateOnly last) => first >= last ? first : first.AddDays(_random.Next(last.DayNumber - first.DayNumber + 1));

    private async Task GenerateAsync()
    {
        On(new DateOnly(2019, 11, 1));
        await RegisterAsync(Central, OrganizationLevel.Central, null);
        await db.Campaigns.StartAsync(new StartCampaign(Campaign, "Đợt thử", DocumentReference.Parse("35-CT/TW"), 2020, 2025, 2022, Admin));
        string[] blocs = ["khoi-1", "khoi-2"];
        foreach (var bloc in blocs)
        {
            await RegisterAsync(bloc, OrganizationLevel.Bloc, Central);
        }

        var ministries = Enumerable.Range(1, 4).Select(i => $"bo-{i}").ToList();
        foreach (var (ministry, i) in ministries.Select((m, i) => (m, i)))
        {
            await RegisterAsync(ministry, OrganizationLevel.Ministry, blocs[i / 2]);
            await RegisterAsync($"{ministry}-chi-bo-truc-thuoc", OrganizationLevel.Branch, ministry);
        }

        for (var g = 1; g <= 10; g++)
        {
            var grassroots = $"co-so-{g}";
            await RegisterAsync(grassroots, OrganizationLevel.Grassroots, ministries[g % ministries.Count]);
            for (var b = 1; b <= 3; b++)
            {
                await RegisterAsync($"{grassroots}-chi-bo-{b}", OrganizationLevel.Branch, grassroots);
            }
        }

        // Plans top-down, each unit's window inside its superior's window for subordinates.
        On(new DateOnly(2019, 12, 1));
        var windows = new Dictionary<string, DateWindow>(StringComparer.Ordinal);
        await PlanAsync(Central, new DateOnly(2021, 1, 25), new DateWindow(new DateOnly(2021, 1, 1), new DateOnly(2021, 1, 31)), new DateWindow(FirstDay, LastDay));
        foreach (var unit in _levels.Where(l => l.Value > OrganizationLevel.Central).OrderBy(l => l.Value).Select(l => l.Key).ToList())
        {
            var window = windows.GetValueOrDefault(_parents[unit]!) ?? new DateWindow(FirstDay, LastDay);
            var planned = _levels[unit] switch
            {
                OrganizationLevel.Bloc => Between(new DateOnly(2020, 10, 1), new DateOnly(2020, 10, 31)),
                OrganizationLevel.Branch => Between(window.Start.AddDays(30), window.End),
                _ => Between(window.End.AddDays(-15), window.End),
            };
            DateWindow? subordinates = _levels[unit] == OrganizationLevel.Branch
                ? null
                : new DateWindow(FirstDay, planned.AddDays(_levels[unit] == OrganizationLevel.Bloc ? -20 : -12));
            if (subordinates is not null)
            {
                windows[unit] = subordinates;
            }

            await PlanAsync(unit, planned, window, subordinates);
        }

        for (var day = FirstDay; day <= LastDay; day = day.AddDays(2))
        {
            On(day);
            await ChangeSomethingAsync();
            await EnterLateConveningsAsync();
            await ResumePostponedAsync();
            await HoldWhatIsDueAsync();
        }
    }

    private async Task RegisterAsync(string id, OrganizationLevel level, string? parent)
    {
        await db.Organizations.RegisterAsync(id, $"Đảng bộ {id}", level, null, parent, Admin);
        _levels[id] = level;
        _parents[id] = parent;
    }

    private async Task PlanAsync(string unit, DateOnly planned, DateWindow window, DateWindow? subordinates)
    {
        await db.Congresses.HandleAsync(new IssuePlan(CongressOf(unit), Campaign, unit, null, NextPlanDocument(), null, Today, planned, window, subordinates,
            [new Deadline(Milestone.SubmittedToSuperior, planned.AddDays(-14)), new Deadline(Milestone.CongressHeld, window.End)], false, null, db.As(unit)));
        _targets[unit] = planned.AddDays(_random.Next(-10, 16));
    }

    private IEnumerable<string> Active(OrganizationLevel? level = null) =>
        _levels.Where(l => (level is null || l.Value == level) && l.Value > OrganizationLevel.Central && !_dissolved.Contains(l.Key) && !_held.Contains(l.Key)
                           && !_enteredLate.ContainsKey(l.Key))
            .Select(l => l.Key).Order(StringComparer.Ordinal);

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>Now and then: an amendment (own, back-dated or future, or of the window for subordinates, which cascades), a postponement, a move, a rename or a dissolution.</summary>
    private async Task ChangeSomethingAsync()
    {
        try
        {
            switch (_random.Next(14))
            {
                case 0 or 1 when Active().ToList() is { Count: > 0 } units:
                    var unit = Pick(units);
                    var (state, _) = await db.Congresses.LoadAsync(CongressOf(unit));
                    var plan = state.Plans[^1];
                    var planned = Between(plan.Window.Start, plan.Window.End);
                    var subordinates = plan.SubordinateWindow is { } own
                        ? new DateWindow(own.Start, Between(own.Start.AddDays(10) < planned ? own.Start.AddDays(10) : own.Start, planned))
                        : null;
                    var effective = Today.AddDays(Pick([-6, 0, 0, 0, 5]));
                    await db.Congresses.HandleAsync(new AmendPlan(CongressOf(unit), NextPlanDocument(), effective, planned, plan.Window, subordinates,
                        [new Deadline(Milestone.SubmittedToSuperior, planned.AddDays(-14)), new Deadline(Milestone.CongressHeld, plan.Window.End)], null, db.As(unit)));
                    _targets[unit] = planned.AddDays(_random.Next(-5, 10));
                    if (_random.Next(2) == 0)
                    {
                        // Issued after the one above but in force from earlier: from then on it is the plan in force, whatever their effective dates.
                        var later = Between(plan.Window.Start, plan.Window.End);
                        var narrower = new DateWindow(plan.Window.Start, Between(later, plan.Window.End));
                        await db.Congresses.HandleAsync(new AmendPlan(CongressOf(unit), NextPlanDocument(), effective.AddDays(-_random.Next(1, 8)), later, narrower,
                            subordinates is null ? null : new DateWindow(subordinates.Start, subordinates.End < later ? subordinates.End : later),
                            [new Deadline(Milestone.SubmittedToSuperior, later.AddDays(-14)), new Deadline(Milestone.CongressHeld, narrower.End)], null, db.As(unit)));
                        _targets[unit] = later.AddDays(_random.Next(-5, 10));
                    }

                    break;
                case 2 when Active().Where(u => !_postponedUntil.ContainsKey(u) && _targets[u] <= Today.AddDays(10)).ToList() is { Count: > 0 } soon:
                    var postponed = Pick(soon);
                    var (congress, _) = await db.Congresses.LoadAsync(CongressOf(postponed));
                    if (congress.Schedule is null)
                    {
                        await db.Congresses.HandleAsync(new ScheduleCongress(CongressOf(postponed), new DateWindow(Today.AddDays(1), Today.AddDays(1)), db.As(postponed)));
                    }

                    await db.Congresses.HandleAsync(new PostponeCongress(CongressOf(postponed), "COVID-19", db.As(postponed)));
                    _postponedUntil[postponed] = Today.AddDays(_random.Next(5, 21));
                    break;
                case 3 when Active(OrganizationLevel.Grassroots).ToList() is { Count: > 0 } grassroots:
                    var moved = Pick(grassroots);
                    var to = Pick(_levels.Where(l => l.Value == OrganizationLevel.Ministry && l.Key != _parents[moved]).Select(l => l.Key).Order(StringComparer.Ordinal).ToList());
                    await db.Organizations.MoveAsync(moved, to, Admin);
                    _parents[moved] = to;
                    break;
                case 4 when Active(OrganizationLevel.Branch).ToList() is { Count: > 0 } branches:
                    var branch = Pick(branches);
                    var newParent = Pick(_levels.Where(l => l.Value == OrganizationLevel.Grassroots && !_dissolved.Contains(l.Key) && l.Key != _parents[branch])
                        .Select(l => l.Key).Order(StringComparer.Ordinal).ToList());
                    await db.Organizations.MoveAsync(branch, newParent, Admin);
                    _parents[branch] = newParent;
                    break;
                case 5:
                    var renamed = Pick(_levels.Keys.Order(StringComparer.Ordinal).ToList());
                    await db.Organizations.RenameAsync(renamed, $"Đảng bộ {renamed} ({Today:dd/MM})", Admin);
                    break;
                case 6 when _random.Next(3) == 0 && Active(OrganizationLevel.Branch).ToList() is { Count: > 0 } candidates:
                    var dissolved = Pick(candidates);
                    await db.Organizations.DissolveAsync(dissolved, "sáp nhập", Admin);
                    _dissolved.Add(dissolved);
                    break;
            }
        }
        catch (CommandRejectedException)
        {
            // The rules refused this change (e.g. a window no longer inside a new superior's): nothing was written.
        }
    }

    private async Task ResumePostponedAsync()
    {
        foreach (var (unit, until) in _postponedUntil.Where(p => p.Value <= Today).ToList())
        {
            _targets[unit] = Today.AddDays(_random.Next(0, 6));
            await db.Congresses.HandleAsync(new RescheduleCongress(CongressOf(unit), new DateWindow(_targets[unit], _targets[unit]), "hết giãn cách", db.As(unit)));
            _postponedUntil.Remove(unit);
        }
    }

    private async Task EnterLateConveningsAsync()
    {
        foreach (var (unit, (heldOn, enteredOn)) in _enteredLate.Where(l => l.Value.EnteredOn <= Today).ToList())
        {
            await db.Congresses.HandleAsync(new ConveneCongress(CongressOf(unit), heldOn, 20, 20, 1, 20, [], db.As(unit)));
            _enteredLate.Remove(unit);
            _held.Add(unit);
        }
    }

    /// <summary>Bottom-up: a unit whose day has come and whose subordinates have all held theirs prepares, is approved and convenes (sometimes entered days later).</summary>
    private async Task HoldWhatIsDueAsync()
    {
        foreach (var unit in Active().Where(u => _targets[u] <= Today && !_postponedUntil.ContainsKey(u)).OrderByDescending(u => _levels[u]).ToList())
        {
            if (_levels.Any(l => _parents[l.Key] == unit && !_dissolved.Contains(l.Key) && !_held.Contains(l.Key)))
            {
                continue;
            }

            var congress = CongressOf(unit);
            var me = db.As(unit);
            var (state, _) = await db.Congresses.LoadAsync(congress);
            if (state.Stage == CongressStage.Preparing)
            {
                await db.Congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.Documents, "Trưởng tiểu ban", 3, me));
                await db.Congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.Personnel, "Trưởng tiểu ban", 3, me));
                await db.Congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.OrganisationService, "Trưởng tiểu ban", 3, me));
                await db.Congresses.HandleAsync(new PrepareDraft(congress, DraftKind.PoliticalReport, me));
                await db.Congresses.HandleAsync(new PrepareDraft(congress, DraftKind.ReviewReport, me));
                await db.Congresses.HandleAsync(new CollectComments(congress, DraftKind.PoliticalReport, 3, 9, me));
                await db.Congresses.HandleAsync(new PreparePersonnelPlan(congress, 5, 6, 1, 1, me));
                await db.Congresses.HandleAsync(new SubmitToSuperior(congress, me));
            }

            if (state.Stage is CongressStage.Preparing or CongressStage.AwaitingApproval)
            {
                await db.Congresses.HandleAsync(new ApproveSubmission(congress, DocumentReference.Parse($"{_documents++}-QĐ/ĐU"), db.As(_parents[unit]!, "standing-committee")));
            }

            if (_random.Next(5) == 0)
            {
                _enteredLate[unit] = (Today, Today.AddDays(_random.Next(2, 7)));
                continue;
            }

            await db.Congresses.HandleAsync(new ConveneCongress(congress, Today, 20, 20, 1, 20, [], me));
            _held.Add(unit);
        }
    }

    // ---- The independent replay ----

    private sealed record Expected(
        string? Name, DateOnly Day, IReadOnlyList<LevelProgress> Levels, SubordinateCompletion Subordinates, SubtreeCompletion Completion,
        IReadOnlyList<(string, string, OrganizationLevel, int, int, int, DateOnly?, int?)> Rows, IReadOnlyList<(string, DateOnly)> Overdue,
        IReadOnlyList<(string, DateOnly)> Upcoming, int Held, int Planned);

    /// <summary>
    /// From the stored events alone: the tree is every organisation event recorded before the end of the day (and by the
    /// moment); a congress is every one of its events recorded by the moment that states a day (or takes effect) by then.
    /// A unit is held if its congress convened by the day, planned by the latest plan taken effect by the day; overdue if
    /// not held and that plan's window has ended before the day, upcoming if not held, within its window and planned in the next 30 days.
    /// </summary>
    private sealed class IndependentReplay(IReadOnlyList<RecordedEvent> events)
    {
        public Expected Report(string root, DateOnly day, DateTimeOffset? knownAt)
        {
            var known = knownAt ?? DateTimeOffset.MaxValue;
            var organizations = new Dictionary<string, Organization>(StringComparer.Ordinal);
            var congresses = new Dictionary<string, Congress>(StringComparer.Ordinal);
            foreach (var e in events.Where(e => e.RecordedAt <= known))
            {
                if (Organization.IdOf(e.Data) is { } id)
                {
                    if (e.RecordedAt < EndOf(day))
                    {
                        organizations[id] = OrganizationDecider.Evolve(organizations.GetValueOrDefault(id, Organization.None), e.Data);
                    }
                }
                else if (e.StreamId.StartsWith("congress-" + Campaign + "-", StringComparison.Ordinal)
                         && (Congress.DateOf(e.Data) ?? DateOnly.FromDateTime(e.RecordedAt.UtcDateTime)) <= day)
                {
                    congresses[e.StreamId] = Congress.Evolve(congresses.GetValueOrDefault(e.StreamId, Congress.None), e.Data);
                }
            }

            var active = organizations.Values.Where(o => !o.IsDissolved).ToDictionary(o => o.Id, StringComparer.Ordinal);
            bool Below(string unit, string ancestor)
            {
                for (var at = active[unit].ParentId; at is not null; at = active.TryGetValue(at, out var o) ? o.ParentId : null)
                {
                    if (at == ancestor)
                    {
                        return true;
                    }
                }

                return false;
            }

            Congress CongressOfUnit(string unit) => congresses.GetValueOrDefault(Congress.StreamId(Campaign, unit), Congress.None);
            var subtree = active.ContainsKey(root) ? active.Keys.Where(u => Below(u, root)).ToList() : [];
            var status = subtree.Select(u =>
            {
                var congress = CongressOfUnit(u);
                var plan = congress.Plans.Count > 0 ? congress.Plans[^1] : null;
                return (Unit: active[u], congress.Convened, Plan: plan);
            }).ToList();

            var levels = status.GroupBy(s => s.Unit.Level).OrderBy(g => g.Key).Select(g =>
            {
                var held = g.Count(s => s.Convened is not null);
                return new LevelProgress(g.Key, g.Count(), held, ProgressQueries.Percent(held, g.Count()),
                    g.Count(s => s.Convened?.DaysLate < 0), g.Count(s => s.Convened?.DaysLate == 0), g.Count(s => s.Convened?.DaysLate > 0),
                    g.Count(s => s.Convened is null && s.Plan?.Window.End < day), g.Count(s => s.Convened is null && s.Plan?.Window.End >= day),
                    g.Count(s => s.Convened is null && s.Plan is null));
            }).ToList();

            var children = status.Where(s => s.Unit.ParentId == root).ToList();
            var committees = children.Where(c => c.Unit.Level < OrganizationLevel.Branch).ToList();
            var done = committees.Count(c =>
            {
                var branches = status.Where(s => s.Unit.Level == OrganizationLevel.Branch && (s.Unit.Id == c.Unit.Id || Below(s.Unit.Id, c.Unit.Id))).ToList();
                return branches.Count > 0 && branches.All(b => b.Convened is not null);
            });
            var allHeld = status.Count > 0 && status.All(s => s.Convened is not null);
            DateOnly? completedOn = allHeld ? status.Max(s => s.Convened!.ConvenedOn) : null;
            var rootCongress = CongressOfUnit(root);
            var deadline = rootCongress.Plans.Count > 0 ? rootCongress.Plans[^1].SubordinateWindow?.End : null;

            var rows = children.OrderBy(c => c.Unit.Id, StringComparer.Ordinal).Select(c =>
            {
                var below = status.Where(s => s.Unit.Id == c.Unit.Id || Below(s.Unit.Id, c.Unit.Id)).ToList();
                return (c.Unit.Id, c.Unit.Name, c.Unit.Level, below.Count, below.Count(s => s.Convened is not null),
                    below.Count(s => s.Convened is null && s.Plan?.Window.End < day), c.Convened?.ConvenedOn, c.Convened?.DaysLate);
            }).ToList();

            return new Expected(
                active.TryGetValue(root, out var rootUnit) ? rootUnit.Name : null, day, levels,
                new SubordinateCompletion(done, committees.Count),
                new SubtreeCompletion(completedOn, deadline, completedOn is { } c && deadline is { } d ? d.DayNumber - c.DayNumber : null),
                rows,
                [.. status.Where(s => s.Convened is null && s.Plan?.Window.End < day).Select(s => (s.Unit.Id, s.Plan!.Window.End))],
                [.. status.Where(s => s.Convened is null && s.Plan is { } p && p.Window.End >= day && p.PlannedDate >= day && p.PlannedDate <= day.AddDays(30))
                    .Select(s => (s.Unit.Id, s.Plan!.PlannedDate))],
                status.Count(s => s.Convened is not null),
                status.Count(s => s.Plan is { } p && p.PlannedDate <= day));
        }
    }
}
