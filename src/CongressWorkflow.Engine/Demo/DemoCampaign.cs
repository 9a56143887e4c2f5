using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.Engine.Time;
using Npgsql;

namespace CongressWorkflow.Engine.Demo;

/// <summary>
/// The campaign toward the 13th National Congress as the source articles tell it, replayed through the real command
/// handlers on its real dates (a manual clock moves from step to step, so as-of queries answer for 2019–2020):
/// the Central Agencies Bloc (155-KH/ĐUK) with the Ministry of Industry and Trade (681-KH/ĐUB, pilots chosen by
/// 748-CV/ĐUB, its cascade finished 14 days ahead of plan, congress III on 28–29/7/2020), and a provincial bloc with
/// Sở Công Thương Thái Bình (10-KH/ĐU, 11-KH/ĐU, amended by 12-KH/ĐU; 12 branch congresses 16/01–03/05/2020;
/// congress IV on 28/5/2020 with an 18.18 % candidate surplus). Where the sources give no number or name, the demo
/// uses a plausible one (e.g. branch names) and says so in its data as little as possible.
/// </summary>
public sealed class DemoCampaign
{
    public const string CampaignId = "dai-hoi-xiii";
    public const string Central = "trung-uong";
    public const string CentralBloc = "dang-bo-khoi-cac-co-quan-trung-uong";
    public const string Ministry = "dang-bo-bo-cong-thuong";
    public const string ProvincialBloc = "dang-bo-khoi-cac-co-quan-tinh-thai-binh";
    public const string ThaiBinh = "dang-bo-so-cong-thuong-thai-binh";

    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2019, 5, 30, 2, 0, 0, TimeSpan.Zero));
    private readonly OrganizationService _organizations;
    private readonly CampaignService _campaigns;
    private readonly CongressService _congresses;
    private readonly DeadlinePolicyService _policies;
    private readonly DeadlineSweep _sweep;
    private readonly NpgsqlDataSource _dataSource;
    private readonly List<Step> _steps = [];
    private DateOnly _cursor;

    public DemoCampaign(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        var store = new PostgresEventStore(dataSource, DomainEventTypes.CreateRegistry(), _clock);
        var pipeline = new CommandPipeline(store, dataSource);
        var tree = new OrganizationTree(dataSource);
        _policies = new DeadlinePolicyService(pipeline);
        _sweep = new DeadlineSweep(store, dataSource, _clock);
        _organizations = new OrganizationService(pipeline, tree);
        _campaigns = new CampaignService(pipeline);
        _congresses = new CongressService(pipeline);
    }

    private sealed record Step(DateOnly Day, int Sequence, Func<CancellationToken, Task> Run);

    private sealed record Unit(string Id, string Name, Sector Sector, bool Pilot, string[] Branches);

    /// <summary>Grassroots organisations of the Ministry: the three pilots of 748-CV/ĐUB and two more the sources name.</summary>
    private static readonly Unit[] MinistryUnits =
    [
        new("dang-bo-cuc-dieu-tiet-dien-luc", "Đảng bộ Cục Điều tiết Điện lực", Sector.StateManagement, true,
            ["Chi bộ Văn phòng Cục", "Chi bộ Phòng Thị trường điện", "Chi bộ Phòng Giá và Phí"]),
        new("dang-bo-trung-tam-thong-tin-cntm", "Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại", Sector.PublicServiceUnit, true,
            ["Chi bộ Phòng Tin học", "Chi bộ Phòng Báo chí", "Chi bộ Phòng Hành chính – Tổng hợp"]),
        new("dang-bo-cong-ty-cp-dien-may", "Đảng bộ Công ty Cổ phần Điện máy", Sector.Enterprise, true,
            ["Chi bộ Văn phòng Công ty", "Chi bộ Kinh doanh", "Chi bộ Kỹ thuật"]),
        new("dang-bo-bao-cong-thuong", "Đảng bộ Báo Công Thương", Sector.PublicServiceUnit, false,
            ["Chi bộ Ban Thời sự", "Chi bộ Ban Điện tử", "Chi bộ Văn phòng Báo"]),
        new("dang-bo-cong-doan-cong-thuong", "Đảng bộ Công đoàn Công Thương Việt Nam", Sector.MassOrganization, false,
            ["Chi bộ Văn phòng Công đoàn", "Chi bộ Ban Tổ chức – Kiểm tra"]),
    ];

    private static readonly string[] ThaiBinhBranches =
    [
        "Chi bộ Văn phòng", "Chi bộ Thanh tra", "Chi bộ Kế hoạch – Tài chính", "Chi bộ Quản lý Công nghiệp", "Chi bộ Quản lý Thương mại",
        "Chi bộ Quản lý Năng lượng", "Chi bộ Kỹ thuật An toàn – Môi trường", "Chi bộ XNK – HNKT", "Chi bộ Trung tâm Khuyến công",
        "Chi bộ Quản lý thị trường số 1", "Chi bộ Quản lý thị trường số 2", "Chi bộ Tổ chức cán bộ",
    ];

    /// <summary>
    /// Loads the demo unless the database already holds organisations; true when it loaded. Nodes starting together on
    /// an empty database take turns (a session advisory lock): the first loads, the others find it loaded.
    /// </summary>
    public async Task<bool> LoadIfEmptyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('demo-campaign', 0))", connection))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using (var any = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM congress.organizations)", connection))
            {
                if ((bool)(await any.ExecuteScalarAsync(cancellationToken))!)
                {
                    return false;
                }
            }

            await LoadAsync(cancellationToken);
            return true;
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended('demo-campaign', 0))", connection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Script();

        // Both stories (the Central bloc and Thái Bình) interleave on one calendar: run every step in date order. The
        // deadline sweep runs once at the start of every day in between (01:00 UTC), so the ledger holds the reminders,
        // alerts and escalations of 2019–2020 on the days they fell due.
        DateOnly? swept = null;
        foreach (var step in _steps.OrderBy(s => s.Day).ThenBy(s => s.Sequence))
        {
            for (var day = swept?.AddDays(1) ?? step.Day; day <= step.Day; day = day.AddDays(1))
            {
                await SweepAsync(day, cancellationToken);
                swept = day;
            }

            var moment = new DateTimeOffset(step.Day.ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero);
            _clock.SetUtcNow(moment > _clock.GetUtcNow() ? moment : _clock.GetUtcNow().AddSeconds(1));
            await step.Run(cancellationToken);
        }
    }

    private async Task SweepAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var moment = new DateTimeOffset(day.ToDateTime(new TimeOnly(1, 0)), TimeSpan.Zero);
        if (moment > _clock.GetUtcNow())
        {
            _clock.SetUtcNow(moment);
        }

        await _sweep.RunAsync(cancellationToken);
    }

    /// <summary>Writes down every step of the campaign with its date; <see cref="LoadAsync"/> runs them in date order.</summary>
    private void Script()
    {
        On(2019, 5, 30);
        Do(ct => _organizations.RegisterAsync(Central, "Ban Chấp hành Trung ương Đảng", OrganizationLevel.Central, null, null, Admin, ct));
        Do(ct => _organizations.RegisterAsync(CentralBloc, "Đảng bộ Khối các cơ quan Trung ương", OrganizationLevel.Bloc, null, Central, Admin, ct));
        Do(ct => _organizations.RegisterAsync(Ministry, "Đảng bộ Bộ Công Thương", OrganizationLevel.Ministry, Sector.StateManagement, CentralBloc, Admin, ct));
        foreach (var unit in MinistryUnits)
        {
            Do(ct => _organizations.RegisterAsync(unit.Id, unit.Name, OrganizationLevel.Grassroots, unit.Sector, Ministry, Admin, ct));
            foreach (var (branch, i) in unit.Branches.Select((b, i) => (b, i)))
            {
                Do(ct => _organizations.RegisterAsync(BranchId(unit.Id, i), branch, OrganizationLevel.Branch, unit.Sector, unit.Id, Admin, ct));
            }
        }

        Do(ct => _organizations.RegisterAsync(ProvincialBloc, "Đảng bộ Khối các cơ quan tỉnh Thái Bình", OrganizationLevel.Bloc, null, Central, Admin, ct));
        Do(ct => _organizations.RegisterAsync(ThaiBinh, "Đảng bộ Sở Công Thương Thái Bình", OrganizationLevel.Grassroots, Sector.StateManagement, ProvincialBloc, Admin, ct));
        foreach (var (branch, i) in ThaiBinhBranches.Select((b, i) => (b, i)))
        {
            Do(ct => _organizations.RegisterAsync(BranchId(ThaiBinh, i), branch, OrganizationLevel.Branch, Sector.StateManagement, ThaiBinh, Admin, ct));
        }

        // A branch directly under the provincial bloc: levels may be skipped.
        Do(ct => _organizations.RegisterAsync("chi-bo-co-so-ban-tuyen-giao-tinh-uy", "Chi bộ cơ sở Ban Tuyên giáo Tỉnh ủy", OrganizationLevel.Branch,
            Sector.StateManagement, ProvincialBloc, Admin, ct));

        Do(ct => _campaigns.StartAsync(new StartCampaign(CampaignId, "Đại hội đảng bộ các cấp tiến tới Đại hội đại biểu toàn quốc lần thứ XIII của Đảng",
            Doc("35-CT/TW"), 2020, 2025, 2022, Admin), ct));

        // How deadlines are chased: reminders 30, 7 and 1 days ahead, escalation after 7 and 14 more days overdue, nothing on Sundays.
        Do(ct => _policies.SetAsync(CampaignId, DeadlinePolicy.Default with { QuietWeekdays = [DayOfWeek.Sunday] },
            "Theo Chỉ thị 35-CT/TW: nhắc hạn, cảnh báo quá hạn và báo cáo cấp trên", Admin, cancellationToken: ct));

        CentralAgenciesBloc();
        ThaiBinhStory();
    }

    private void CentralAgenciesBloc()
    {
        On(2019, 10, 10);
        Plan(CentralBloc, "155-KH/ĐUK", "35-CT/TW", D(2020, 10, 28), W(2020, 10, 1, 2020, 10, 31), W(2020, 1, 1, 2020, 8, 31), false);

        On(2019, 11, 12);
        // 681-KH/ĐUB: the Ministry's cascade is due by 14/07/2020, its own congress on 28/07/2020.
        Plan(Ministry, "681-KH/ĐUB", "155-KH/ĐUK", D(2020, 7, 28), W(2020, 7, 1, 2020, 7, 31), W(2020, 1, 1, 2020, 7, 14), false);

        On(2019, 12, 27);
                foreach (var (unit, u) in MinistryUnits.Select((x, i) => (x, i)))
        {
            // Pilots (748-CV/ĐUB) start in April and must finish before 30/06; the others follow in June.
            var planned = unit.Pilot ? D(2020, 4, 20).AddDays(7 * u) : D(2020, 6, 15).AddDays(3 * (u - 3));
            Plan(unit.Id, $"{20 + u:00}-KH/ĐU", "681-KH/ĐUB", planned, W(2020, 4, 1, 2020, 6, 30), W(2020, 1, 10, 2020, 3, 31), unit.Pilot);
            for (var i = 0; i < unit.Branches.Length; i++)
            {
                Plan(BranchId(unit.Id, i), "01-KH/CB", $"{20 + u:00}-KH/ĐU", D(2020, 3, 10), W(2020, 1, 10, 2020, 3, 31), null, false);
            }
        }

        // Branches: prepared in January, approved by their grassroots committee, held February–March.
        foreach (var (unit, u) in MinistryUnits.Select((x, i) => (x, i)))
        {
            for (var i = 0; i < unit.Branches.Length; i++)
            {
                var branch = BranchId(unit.Id, i);
                On(2020, 1, 13 + u);
                PrepareAndSubmit(branch, 5, 6);
                On(2020, 1, 20 + u);
                Approve(branch, unit.Id, $"{40 + (u * 5) + i}-QĐ/ĐU");
                var day = D(2020, 2, 17).AddDays((u * 6) + (i * 2));
                On(day);
                Convene(branch, day, 12 + i, 12 + i, 1, 12 + i);
            }
        }

        // Grassroots: prepared in March, approved by the Ministry; COVID-19 postpones the Centre's pilot.
        foreach (var (unit, u) in MinistryUnits.Select((x, i) => (x, i)))
        {
            On(2020, 3, 16 + u);
            PrepareAndSubmit(unit.Id, 9, 11);
            if (u == 1)
            {
                On(2020, 3, 25);
                Do(ct => _congresses.HandleAsync(new ReturnSubmission(CongressOf(unit.Id),
                    "Đề nghị bổ sung cơ cấu cán bộ nữ, cán bộ trẻ trong đề án nhân sự", As(Ministry, "ban-thuong-vu")), cancellationToken: ct));
                On(2020, 3, 30);
                Do(ct => _congresses.HandleAsync(new SubmitToSuperior(CongressOf(unit.Id), As(unit.Id)), cancellationToken: ct));
            }

            On(2020, 4, 6 + u);
            Approve(unit.Id, Ministry, $"{150 + u}-QĐ/ĐUB");
        }

        var centre = MinistryUnits[1].Id;
        On(2020, 4, 10);
        Do(ct => _congresses.HandleAsync(new ScheduleCongress(CongressOf(centre), W(2020, 4, 27, 2020, 4, 27), As(centre)), cancellationToken: ct));
        On(2020, 4, 15);
        Do(ct => _congresses.HandleAsync(new PostponeCongress(CongressOf(centre), "COVID-19: giãn cách xã hội theo Chỉ thị 16/CT-TTg", As(centre)), cancellationToken: ct));
        On(2020, 4, 24);
        Do(ct => _congresses.HandleAsync(new RescheduleCongress(CongressOf(centre), W(2020, 5, 8, 2020, 5, 8), "Kết thúc giãn cách xã hội", As(centre)), cancellationToken: ct));

        foreach (var (unit, u) in MinistryUnits.Select((x, i) => (x, i)))
        {
            var day = unit.Pilot ? (u == 1 ? D(2020, 5, 8) : D(2020, 4, 22).AddDays(7 * u)) : D(2020, 6, 16).AddDays(14 * (u - 3));
            On(day);
            Convene(unit.Id, day, 60 + (10 * u), 62 + (10 * u), unit.Branches.Length, 150 + (40 * u));
            Elect(unit.Id, new ElectionResults(9, 3, "Bí thư " + unit.Name.Replace("Đảng bộ ", string.Empty, StringComparison.Ordinal), 1, 3, "Chủ nhiệm UBKT", 5, 1));
            Do(ct => _congresses.HandleAsync(new RecogniseResults(CongressOf(unit.Id), Doc($"{200 + u}-QĐ/ĐUB"), As(Ministry, "ban-thuong-vu")), cancellationToken: ct));
            Do(ct => _congresses.HandleAsync(new IssueResolution(CongressOf(unit.Id), Doc("01-NQ/ĐU"), As(unit.Id)), cancellationToken: ct));
        }

        // Congress III of the Ministry party committee, 28–29/07/2020: 299 of 300 delegates.
        On(2020, 6, 1);
        PrepareAndSubmit(Ministry, 34, 40);
        On(2020, 7, 1);
        Approve(Ministry, CentralBloc, "312-QĐ/ĐUK");
        On(2020, 7, 28);
        Do(ct => _congresses.HandleAsync(new ScheduleCongress(CongressOf(Ministry), W(2020, 7, 28, 2020, 7, 29), As(Ministry)), cancellationToken: ct));
        Convene(Ministry, D(2020, 7, 28), 299, 300, 92, 7000);
        On(2020, 7, 29);
        Elect(Ministry, new ElectionResults(34, 9, "Bí thư Đảng ủy Bộ Công Thương", 2, 5, "Chủ nhiệm UBKT Đảng ủy Bộ", 47, 4));
        Do(ct => _congresses.HandleAsync(new IssueResolution(CongressOf(Ministry), Doc("01-NQ/ĐUB"), As(Ministry)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new AdoptActionProgramme(CongressOf(Ministry), "Chương trình hành động thực hiện Nghị quyết Đại hội III", As(Ministry)), cancellationToken: ct));
        On(2020, 8, 10);
        Do(ct => _congresses.HandleAsync(new RecogniseResults(CongressOf(Ministry), Doc("350-QĐ/ĐUK"), As(CentralBloc, "ban-thuong-vu")), cancellationToken: ct));

        // The bloc's own congress, 28–30/10/2020.
        On(2020, 9, 15);
        PrepareAndSubmit(CentralBloc, 61, 72);
        On(2020, 10, 1);
        Approve(CentralBloc, Central, "1200-QĐ/TW");
        On(2020, 10, 28);
        Convene(CentralBloc, D(2020, 10, 28), 448, 450, 61, 80_000);
    }

    private void ThaiBinhStory()
    {
        On(2019, 10, 25);
        Plan(ProvincialBloc, "187-KH/TU", "35-CT/TW", D(2020, 8, 20), W(2020, 8, 1, 2020, 8, 31), W(2020, 1, 1, 2020, 6, 30), false);

        // 10-KH/ĐU (congress IV on 28/05/2020) and 11-KH/ĐU (its branches, first due by 31/03) of 28/11/2019.
        On(2019, 11, 28);
        Plan(ThaiBinh, "10-KH/ĐU", "187-KH/TU", D(2020, 5, 28), W(2020, 5, 1, 2020, 6, 30), W(2020, 1, 15, 2020, 3, 31), false);
        for (var i = 0; i < ThaiBinhBranches.Length; i++)
        {
            Plan(BranchId(ThaiBinh, i), "11-KH/ĐU", "10-KH/ĐU", D(2020, 1, 16).AddDays(5 * i), W(2020, 1, 15, 2020, 3, 31), null, false);
        }

        // 12 branch congresses between 16/01 and 03/05/2020; COVID-19 stops the last ones, so 12-KH/ĐU of 12/03
        // amends the plan: branch congresses may run to 03/05/2020.
        for (var i = 0; i < ThaiBinhBranches.Length; i++)
        {
            var branch = BranchId(ThaiBinh, i);
            var held = i < 9 ? D(2020, 1, 16).AddDays(5 * i) : D(2020, 4, 25).AddDays(4 * (i - 9));
            if (i == 9)
            {
                On(2020, 3, 12);
                Do(ct => _congresses.HandleAsync(new AmendPlan(CongressOf(ThaiBinh), Doc("12-KH/ĐU"), D(2020, 3, 12), D(2020, 5, 28),
                    W(2020, 5, 1, 2020, 6, 30), W(2020, 1, 15, 2020, 5, 3), [], null, As(ThaiBinh)), cancellationToken: ct));
            }

            On(held.AddDays(-14));
            PrepareAndSubmit(branch, 3, 3);
            On(held.AddDays(-7));
            Approve(branch, ThaiBinh, $"{60 + i}-QĐ/ĐU");
            if (i < ThaiBinhBranches.Length - 1)
            {
                On(held);
                Convene(branch, held, 8 + i, 8 + i, 1, 8 + i);
            }
        }

        // Congress IV: documents and personnel plan (11 seats, 13 candidates: 18.18 %) approved by the provincial bloc.
        On(2020, 5, 5);
        PrepareAndSubmit(ThaiBinh, 11, 13);

        // The last branch held its congress on 03/05 but it was entered only on 12/05: a back-dated entry, so the dashboard
        // as shown on 10/05 had 11 of 12, while 12 of 12 were held by then.
        On(2020, 5, 12);
        Convene(BranchId(ThaiBinh, ThaiBinhBranches.Length - 1), D(2020, 5, 3), 19, 19, 1, 19);
        On(2020, 5, 15);
        Approve(ThaiBinh, ProvincialBloc, "95-QĐ/ĐUK");
        On(2020, 5, 28);
        Convene(ThaiBinh, D(2020, 5, 28), 98, 100, 12, 180);
        Elect(ThaiBinh, new ElectionResults(11, 3, "Bí thư Đảng ủy Sở Công Thương", 1, 3, "Chủ nhiệm UBKT Đảng ủy Sở", 6, 1));
        Do(ct => _congresses.HandleAsync(new IssueResolution(CongressOf(ThaiBinh), Doc("01-NQ/ĐU"), As(ThaiBinh)), cancellationToken: ct));

        // The branch under the provincial bloc studies the bloc's resolution on 25/09/2020.
        const string propaganda = "chi-bo-co-so-ban-tuyen-giao-tinh-uy";
        On(2020, 1, 2);
        Plan(propaganda, "03-KH/CB", "187-KH/TU", D(2020, 3, 20), W(2020, 3, 1, 2020, 4, 30), null, false);
        On(2020, 3, 2);
        PrepareAndSubmit(propaganda, 5, 6);
        On(2020, 3, 10);
        Approve(propaganda, ProvincialBloc, "70-QĐ/ĐUK");
        On(2020, 3, 20);
        Convene(propaganda, D(2020, 3, 20), 21, 21, 1, 21);
        Elect(propaganda, new ElectionResults(5, 0, "Bí thư Chi bộ", 1, 0, null, 3, 0));
        Do(ct => _congresses.HandleAsync(new IssueResolution(CongressOf(propaganda), Doc("01-NQ/CB"), As(propaganda)), cancellationToken: ct));
        On(2020, 9, 25);
        Do(ct => _congresses.HandleAsync(new DisseminateResolution(CongressOf(propaganda), 1, D(2020, 9, 25), As(propaganda)), cancellationToken: ct));
    }

    private void Plan(
        string organizationId, string document, string cites, DateOnly planned, DateWindow window, DateWindow? subordinates, bool pilot) =>
        Do(ct => _congresses.HandleAsync(new IssuePlan(CongressOf(organizationId), CampaignId, organizationId, null, Doc(document), Doc(cites), Today,
            planned, window, subordinates,
            [new Deadline(Milestone.SubmittedToSuperior, planned.AddDays(-14)), new Deadline(Milestone.CongressHeld, window.End)],
            pilot, null, As(organizationId)), cancellationToken: ct));

    private void PrepareAndSubmit(string organizationId, int seats, int candidates)
    {
        var congress = CongressOf(organizationId);
        Do(ct => _congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.Documents, "Trưởng Tiểu ban Văn kiện", 5, As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.Personnel, "Trưởng Tiểu ban Nhân sự", 3, As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.OrganisationService, "Trưởng Tiểu ban Tổ chức – Phục vụ", 4, As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new PrepareDraft(congress, DraftKind.PoliticalReport, As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new PrepareDraft(congress, DraftKind.ReviewReport, As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new CollectComments(congress, DraftKind.PoliticalReport, Math.Max(1, seats / 2), seats * 3, As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new PreparePersonnelPlan(congress, seats, candidates, Math.Max(1, seats / 4), Math.Max(1, seats / 8), As(organizationId)), cancellationToken: ct));
        Do(ct => _congresses.HandleAsync(new SubmitToSuperior(congress, As(organizationId)), cancellationToken: ct));
    }

    private void Approve(string organizationId, string superiorId, string decision) =>
        Do(ct => _congresses.HandleAsync(new ApproveSubmission(CongressOf(organizationId), Doc(decision), As(superiorId, "ban-thuong-vu")), cancellationToken: ct));

    private void Convene(string organizationId, DateOnly on, int present, int expected, int units, int members) =>
        Do(ct => _congresses.HandleAsync(new ConveneCongress(CongressOf(organizationId), on, present, expected, units, members, [], As(organizationId)), cancellationToken: ct));

    private void Elect(string organizationId, ElectionResults results) =>
        Do(ct => _congresses.HandleAsync(new RecordElections(CongressOf(organizationId), results, As(organizationId)), cancellationToken: ct));

    private DateOnly Today => DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);

    private void On(int year, int month, int day) => On(new DateOnly(year, month, day));

    /// <summary>The date of the steps that follow (09:00 in Hà Nội, 02:00 UTC); steps of one day keep their order.</summary>
    private void On(DateOnly day) => _cursor = day;

    private void Do(Func<CancellationToken, Task> step) => _steps.Add(new Step(_cursor, _steps.Count, step));

    private CommandContext Admin => As(Central, "ban-to-chuc-trung-uong");

    private CommandContext As(string organizationId, string role = "van-phong-cap-uy") =>
        new($"{role}@{organizationId}", role, organizationId, _clock.GetUtcNow());

    private static string CongressOf(string organizationId) => Congress.StreamId(CampaignId, organizationId);

    private static string BranchId(string parent, int index) => $"{parent}-chi-bo-{index + 1:00}";

    private static DocumentReference Doc(string text) => DocumentReference.Parse(text);

    private static DateOnly D(int year, int month, int day) => new(year, month, day);

    private static DateWindow W(int y1, int m1, int d1, int y2, int m2, int d2) => new(new DateOnly(y1, m1, d1), new DateOnly(y2, m2, d2));
}
