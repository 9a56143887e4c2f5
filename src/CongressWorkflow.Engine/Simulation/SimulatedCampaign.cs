using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Organizations;

namespace CongressWorkflow.Engine.Simulation;

/// <summary>
/// One organisation of a simulated campaign: where it sits, its plan and what will happen to its congress. Kept small
/// (a national campaign holds 300,000 of them in the server for the whole run): its id and name are derived from its
/// place (its superior, its bloc and its number) when asked for, not stored.
/// </summary>
public sealed class SimulatedUnit
{
    private static readonly string[] CommitteeNames = ["Bộ", "Tổng cục", "Ủy ban", "Tập đoàn", "Tổng công ty", "Ban", "Viện", "Học viện"];
    private static readonly string[] GrassrootsNames = ["Vụ", "Cục", "Trung tâm", "Công ty", "Trường", "Bệnh viện", "Tạp chí", "Viện"];
    private static readonly string[] BranchNames = ["Văn phòng", "Phòng Tổ chức", "Phòng Kế hoạch", "Phòng Tài chính", "Phòng Kỹ thuật", "Phòng Hành chính", "Phân xưởng", "Tổ"];

    /// <summary>The root's id, or the campaign's for a bloc (whose id is made from it); null below a bloc.</summary>
    private readonly string? _idOrPrefix;

    internal SimulatedUnit(string? idOrPrefix, OrganizationLevel level, Sector? sector, SimulatedUnit? parent, int bloc, int number)
    {
        _idOrPrefix = idOrPrefix;
        Level = level;
        Sector = sector;
        Parent = parent;
        Bloc = bloc;
        Number = number;
    }

    /// <summary>Its place in <see cref="SimulatedCampaign.Units"/>.</summary>
    public int Index { get; internal set; }

    public OrganizationLevel Level { get; }

    public Sector? Sector { get; }

    public SimulatedUnit? Parent { get; }

    /// <summary>The bloc it belongs to (1, 2...), 0 for the root.</summary>
    public int Bloc { get; }

    /// <summary>Its number among the units of its level in its bloc.</summary>
    public int Number { get; }

    public string Id => Level switch
    {
        OrganizationLevel.Central => _idOrPrefix!,
        OrganizationLevel.Bloc => $"{_idOrPrefix}-khoi-{Bloc}",
        OrganizationLevel.Ministry => $"{Parent!.Id}-dang-bo-{Number}",
        OrganizationLevel.Grassroots => $"{Parent!.Id}-co-so-{Number}",
        _ => $"{Parent!.Id}-chi-bo-{Number}",
    };

    public string? ParentId => Parent?.Id;

    public string Name => Level switch
    {
        OrganizationLevel.Central => "Ban Chấp hành Trung ương (mô phỏng)",
        OrganizationLevel.Bloc => $"Đảng bộ Khối {Bloc} (mô phỏng)",
        OrganizationLevel.Ministry => $"Đảng bộ {CommitteeNames[Number % CommitteeNames.Length]} {Bloc}.{Number}",
        OrganizationLevel.Grassroots => $"Đảng bộ {GrassrootsNames[Number % GrassrootsNames.Length]} {Bloc}.{Number}",
        _ => $"Chi bộ {BranchNames[Number % BranchNames.Length]} {Bloc}.{Number}",
    };

    public bool IsPilot { get; init; }

    public DateOnly PlannedDate { get; set; }

    public DateWindow Window { get; set; } = null!;

    public DateWindow? SubordinateWindow { get; set; }

    /// <summary>The day it would hold its congress if nothing held it back (its subordinates may make it later).</summary>
    public DateOnly HeldOn { get; set; }

    /// <summary>Its first submission is returned with comments and resubmitted.</summary>
    public bool Returned { get; set; }

    /// <summary>Postponed (COVID-19) on this day and rescheduled on <see cref="ResumedOn"/>.</summary>
    public DateOnly? PostponedOn { get; set; }

    public DateOnly? ResumedOn { get; set; }
}

/// <summary>
/// A national campaign generated from a size and a seed, the same every time for the same pair: the Central
/// Committee, blocs, and under each bloc the level mix of the Central Agencies Bloc (DOMAIN.md: 61 committees, 1,068
/// grassroots organisations and 5,408 branches, some branches directly under a committee) scaled to the size; plans
/// top-down inside their superior's window, three pilots per committee, a spread of early, on-time and late congresses,
/// one submission in ten returned, a COVID-like wave that postpones congresses planned from late March to April and
/// makes a third of the committees hit by it widen their branches' window.
/// </summary>
public sealed class SimulatedCampaign
{
    public static readonly DateOnly Directive = new(2019, 5, 30);
    public static readonly DateOnly FirstDay = new(2019, 12, 1);
    public static readonly DateOnly LastDay = new(2021, 1, 31);
    private static readonly DateOnly WaveStart = new(2020, 3, 25);
    private static readonly DateOnly WaveEnd = new(2020, 4, 30);
    private static readonly DateOnly Reopening = new(2020, 5, 4);

    public SimulatedCampaign(int size, int seed)
    {
        if (size is < 10 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "a simulated campaign has between 10 and 1,000,000 organisations");
        }

        Size = size;
        Seed = seed;
        CampaignId = CampaignIdOf(size, seed);
        RootId = RootIdOf(size, seed);
        var random = new Random(seed);
        Units = Generate(random);
        Schedule(random);
    }

    /// <summary>The campaign a size and a seed make (both: the same seed at another size is another campaign).</summary>
    public static string CampaignIdOf(int size, int seed) => $"mo-phong-{size}-{seed}";

    /// <summary>Its own top-level organisation, known without generating the campaign.</summary>
    public static string RootIdOf(int size, int seed) => CampaignIdOf(size, seed) + "-trung-uong";

    public int Size { get; }

    public int Seed { get; }

    public string CampaignId { get; }

    public string RootId { get; }

    /// <summary>Parents before children.</summary>
    public IReadOnlyList<SimulatedUnit> Units { get; }

    public SimulatedUnit Root => Units[0];

    /// <summary>
    /// The tree as import files (CSV, the format of <c>congress org import</c>) of at most <paramref name="rowsPerFile"/>
    /// rows each, parents first: each file's parents are in it or in an earlier one.
    /// </summary>
    public IEnumerable<(string Csv, int Rows)> TreeCsvFiles(int rowsPerFile)
    {
        foreach (var part in Units.Chunk(rowsPerFile))
        {
            var csv = new System.Text.StringBuilder("id,name,level,sector,parent_id\n");
            foreach (var u in part)
            {
                csv.Append(u.Id).Append(',').Append(u.Name).Append(',').Append(Kebab(u.Level.ToString())).Append(',')
                    .Append(u.Sector is { } sector ? Kebab(sector.ToString()) : string.Empty).Append(',').Append(u.ParentId).Append('\n');
            }

            yield return (csv.ToString(), part.Length);
        }
    }

    private static string Kebab(string name) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(name);

    private List<SimulatedUnit> Generate(Random random)
    {
        var root = new SimulatedUnit(RootId, OrganizationLevel.Central, null, null, 0, 0);
        var units = new List<SimulatedUnit> { root };
        const double perBloc = 1 + 61 + 1_068 + 5_408;
        var blocs = Math.Max(1, (int)Math.Round((Size - 1) / perBloc));
        var remaining = Size - 1 - blocs;
        for (var b = 1; b <= blocs; b++)
        {
            var share = remaining / (blocs - b + 1);
            remaining -= share;
            var bloc = new SimulatedUnit(CampaignId, OrganizationLevel.Bloc, null, root, b, b);
            units.Add(bloc);
            var committees = Math.Max(1, (int)Math.Round(share * 61 / (perBloc - 1)));
            var grassroots = Math.Max(1, Math.Min(share - committees, (int)Math.Round(share * 1_068 / (perBloc - 1))));
            var branches = share - committees - grassroots;
            var committeeUnits = new List<SimulatedUnit>();
            for (var c = 1; c <= committees; c++)
            {
                committeeUnits.Add(new SimulatedUnit(null, OrganizationLevel.Ministry, (Sector)random.Next(4), bloc, b, c));
            }

            units.AddRange(committeeUnits);
            var grassrootsUnits = new List<SimulatedUnit>();
            for (var g = 1; g <= grassroots; g++)
            {
                grassrootsUnits.Add(new SimulatedUnit(null, OrganizationLevel.Grassroots, (Sector)random.Next(4), committeeUnits[(g - 1) % committeeUnits.Count], b, g)
                {
                    IsPilot = g <= committeeUnits.Count * 3,
                });
            }

            units.AddRange(grassrootsUnits);
            for (var i = 1; i <= branches; i++)
            {
                // One branch in twenty sits directly under a committee, as some do under the Central Agencies Bloc's.
                var parent = random.Next(20) == 0 ? committeeUnits[random.Next(committeeUnits.Count)] : grassrootsUnits[random.Next(grassrootsUnits.Count)];
                units.Add(new SimulatedUnit(null, OrganizationLevel.Branch, parent.Sector, parent, b, i));
            }
        }

        List<SimulatedUnit> ordered = [.. units.OrderBy(u => u.Level)];
        for (var i = 0; i < ordered.Count; i++)
        {
            ordered[i].Index = i;
        }

        return ordered;
    }

    /// <summary>Plans top-down, each inside its superior's window for subordinates, then what happens to each congress.</summary>
    private void Schedule(Random random)
    {
        DateOnly Between(DateOnly first, DateOnly last) => first >= last ? first : first.AddDays(random.Next(last.DayNumber - first.DayNumber + 1));

        foreach (var u in Units)
        {
            var inherited = u.Parent?.SubordinateWindow;
            (u.PlannedDate, u.Window, u.SubordinateWindow) = u.Level switch
            {
                OrganizationLevel.Central => (new DateOnly(2021, 1, 25), new DateWindow(new DateOnly(2021, 1, 25), new DateOnly(2021, 2, 1)),
                    new DateWindow(new DateOnly(2020, 1, 1), new DateOnly(2020, 12, 31))),
                OrganizationLevel.Bloc => Committee(new DateWindow(new DateOnly(2020, 9, 1), new DateOnly(2020, 10, 31)), new DateOnly(2020, 10, 15), 30),
                OrganizationLevel.Ministry => Committee(new DateWindow(new DateOnly(2020, 3, 1), inherited!.End), Between(new DateOnly(2020, 7, 1), inherited.End), 14),
                OrganizationLevel.Grassroots => Committee(new DateWindow(new DateOnly(2020, 2, 15), inherited!.End),
                    u.IsPilot ? Between(new DateOnly(2020, 4, 1), new DateOnly(2020, 4, 30)) : Between(new DateOnly(2020, 4, 15), inherited.End), 10),
                _ => (Between(inherited!.Start.AddDays(20), inherited.End), inherited, null),
            };

            var drift = random.Next(10) switch
            {
                < 2 => -random.Next(1, 15),
                < 7 => 0,
                _ => random.Next(1, 31),
            };
            u.HeldOn = u.Level == OrganizationLevel.Central ? u.PlannedDate : u.PlannedDate.AddDays(drift);
            if (!u.IsPilot && u.Level is OrganizationLevel.Branch or OrganizationLevel.Grassroots && u.HeldOn >= WaveStart && u.HeldOn <= WaveEnd
                && random.Next(10) < 6)
            {
                u.PostponedOn = Max(WaveStart, u.HeldOn.AddDays(-3));
                u.ResumedOn = Reopening;
                u.HeldOn = Between(Reopening.AddDays(3), Reopening.AddDays(40));
            }

            u.Returned = random.Next(10) == 0;
        }

        (DateOnly, DateWindow, DateWindow?) Committee(DateWindow window, DateOnly planned, int before) =>
            (planned, window, new DateWindow(new DateOnly(2020, 1, 15), planned.AddDays(-before)));
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    /// <summary>Committees whose branches the wave hit, a third of which widen their branches' window (like 12-KH/ĐU).</summary>
    public IEnumerable<SimulatedUnit> CommitteesWideningTheirWindow()
    {
        var hit = Units.Where(u => u.PostponedOn is not null && u.Parent is not null).Select(u => u.Parent!).Distinct()
            .Where(u => u.Level == OrganizationLevel.Grassroots && u.SubordinateWindow is not null);
        return hit.Where(u => StableHash(u.Id) % 3 == 0);
    }

    public static DateOnly WideningDay => new(2020, 4, 10);

    private static int StableHash(string text) => text.Aggregate(17, (hash, c) => unchecked(hash * 31 + c)) & int.MaxValue;
}
