using CongressWorkflow.Engine.Import;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

public sealed class importing_an_organisation_tree(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    private const string ThaiBinhJson = """
        {
          "organizations": [
            { "id": "trung-uong", "name": "Trung ương", "level": "central" },
            { "id": "dang-bo-khoi-co-quan-tinh", "name": "Đảng bộ Khối các cơ quan tỉnh Thái Bình", "level": "bloc", "parentId": "trung-uong" },
            { "id": "so-cong-thuong-thai-binh", "name": "Đảng bộ Sở Công Thương Thái Bình", "level": "grassroots",
              "sector": "state-management", "parentId": "dang-bo-khoi-co-quan-tinh" },
            { "id": "chi-bo-van-phong", "name": "Chi bộ Văn phòng", "level": "branch", "parentId": "so-cong-thuong-thai-binh" },
            { "id": "chi-bo-quan-ly-thi-truong", "name": "Chi bộ Quản lý thị trường", "level": "branch", "parentId": "so-cong-thuong-thai-binh" }
          ]
        }
        """;

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task contacts_come_with_the_tree_in_json_or_csv_and_a_bad_address_rejects_the_file()
    {
        var json = ThaiBinhJson.Replace("""
            "sector": "state-management", "parentId": "dang-bo-khoi-co-quan-tinh" },
            """, """
            "sector": "state-management", "parentId": "dang-bo-khoi-co-quan-tinh",
              "contacts": [ { "role": "secretariat", "email": "VanPhong@SoCongThuong.example", "name": "Văn phòng Đảng ủy" },
                            { "role": "committee", "email": "thuongvu@socongthuong.example", "language": "en" } ] },
            """, StringComparison.Ordinal);
        var csvChange = """
            id,name,level,sector,parent_id,contacts
            so-cong-thuong-thai-binh,Đảng bộ Sở Công Thương Thái Bình,grassroots,state-management,dang-bo-khoi-co-quan-tinh,secretariat:vp2@socongthuong.example
            chi-bo-van-phong,Chi bộ Văn phòng,branch,,so-cong-thuong-thai-binh,chairman:x@y.example
            """;

        var first = await db.Import.ImportAsync(json, ImportFormat.Json, db.As(Central));
        var again = await db.Import.ImportAsync(json, ImportFormat.Json, db.As(Central));
        var rejected = await db.Import.ImportAsync(csvChange, ImportFormat.Csv, db.As(Central));
        var contacts = await db.Organizations.ContactsAsync("so-cong-thuong-thai-binh");
        var changed = await db.Import.ImportAsync(csvChange.Replace("chairman:x@y.example", string.Empty, StringComparison.Ordinal), ImportFormat.Csv,
            db.As(Central));

        Assert.True(first.Succeeded, string.Join("; ", first.Errors));
        Assert.Equal((0, 5), (again.ContactsChanged, again.Unchanged));
        var error = Assert.Single(rejected.Errors);
        Assert.Equal((3, "chi-bo-van-phong"), (error.Line, error.OrganizationId));
        Assert.Equal([("committee", "thuongvu@socongthuong.example", "en"), ("secretariat", "vanphong@socongthuong.example", "vi")],
            contacts.Select(c => (c.Role, c.Email, c.Language)));
        Assert.Equal(1, changed.ContactsChanged);
        Assert.Equal(["vp2@socongthuong.example"], (await db.Organizations.ContactsAsync("so-cong-thuong-thai-binh")).Select(c => c.Email));
    }

    [Fact]
    public async Task a_good_file_imports_and_importing_it_again_changes_nothing()
    {
        var first = await db.Import.ImportAsync(ThaiBinhJson, ImportFormat.Json, db.As(Central));
        var eventsAfterFirst = await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events");
        var second = await db.Import.ImportAsync(ThaiBinhJson, ImportFormat.Json, db.As(Central));

        Assert.True(first.Succeeded);
        Assert.Equal(5, first.Registered);
        Assert.Equal(new ImportReport(0, 0, 0, 5, []), second);
        Assert.Equal(eventsAfterFirst, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(["so-cong-thuong-thai-binh", "chi-bo-quan-ly-thi-truong", "chi-bo-van-phong"],
            (await db.Tree.SubtreeAsync("so-cong-thuong-thai-binh")).Select(o => o.Id));
    }

    [Fact]
    public async Task a_changed_name_or_parent_becomes_a_rename_or_a_move()
    {
        await db.Import.ImportAsync(ThaiBinhJson, ImportFormat.Json, db.As(Central));
        var changed = ThaiBinhJson
            .Replace("Chi bộ Văn phòng", "Chi bộ Văn phòng Sở", StringComparison.Ordinal)
            .Replace("""
                "level": "branch", "parentId": "so-cong-thuong-thai-binh" },
                    { "id": "chi-bo-quan-ly
                """, """
                "level": "branch", "parentId": "dang-bo-khoi-co-quan-tinh" },
                    { "id": "chi-bo-quan-ly
                """, StringComparison.Ordinal);

        var report = await db.Import.ImportAsync(changed, ImportFormat.Json, db.As(Central));

        Assert.Equal((0, 1, 1, 4), (report.Registered, report.Renamed, report.Moved, report.Unchanged));
        Assert.Equal("dang-bo-khoi-co-quan-tinh", (await db.Tree.GetAsync("chi-bo-van-phong"))!.ParentId);
        Assert.Equal("Chi bộ Văn phòng Sở", (await db.Tree.GetAsync("chi-bo-van-phong"))!.Name);
    }

    [Fact]
    public async Task every_bad_json_row_is_reported_with_its_line_and_nothing_is_written()
    {
        const string bad = """
            {
              "organizations": [
                { "id": "trung-uong", "name": "Trung ương", "level": "central" },
                { "id": "Khoi Tinh", "name": "Khối", "level": "bloc", "parentId": "trung-uong" },
                { "id": "so", "name": "", "level": "grassroots", "parentId": "trung-uong" },
                { "id": "chi-bo", "name": "Chi bộ", "level": "village", "parentId": "so" }
              ]
            }
            """;

        var report = await db.Import.ImportAsync(bad, ImportFormat.Json, db.As(Central));

        Assert.False(report.Succeeded);
        Assert.Equal([4, 5, 6], report.Errors.Select(e => e.Line));
        Assert.Contains("id", report.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("name", report.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("level", report.Errors[2].Reason, StringComparison.Ordinal);
        await AssertNothingWritten();
    }

    [Fact]
    public async Task tree_rules_are_checked_across_the_file_and_the_stored_tree()
    {
        await db.Import.ImportAsync(ThaiBinhJson, ImportFormat.Json, db.As(Central));
        var eventsBefore = await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events");
        const string csv = """"
            id,name,level,sector,parent_id
            chi-bo-ke-hoach,Chi bộ Kế hoạch,branch,state-management,so-cong-thuong-thai-binh
            chi-bo-con,Chi bộ con,branch,,chi-bo-ke-hoach
            chi-bo-ma,"Chi bộ ""ma""",branch,,khong-ton-tai
            chi-bo-ke-hoach,Chi bộ Kế hoạch (lặp),branch,,so-cong-thuong-thai-binh
            so-cong-thuong-thai-binh,Đảng bộ Sở Công Thương Thái Bình,ministry,,dang-bo-khoi-co-quan-tinh
            chi-bo-hop-le,Chi bộ hợp lệ,branch,enterprise,so-cong-thuong-thai-binh
            """";

        var report = await db.Import.ImportAsync(csv, ImportFormat.Csv, db.As(Central));

        Assert.False(report.Succeeded);
        Assert.Equal([3, 4, 5, 6], report.Errors.Select(e => e.Line));
        Assert.Contains("deeper level", report.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("khong-ton-tai", report.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("line 2", report.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("level", report.Errors[3].Reason, StringComparison.Ordinal);
        Assert.Equal(eventsBefore, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Null(await db.Tree.GetAsync("chi-bo-hop-le"));
    }

    [Fact]
    public async Task a_file_of_a_few_rows_is_judged_on_the_stored_chain_above_them()
    {
        await db.Import.ImportAsync(ThaiBinhJson, ImportFormat.Json, db.As(Central));
        await db.Import.ImportAsync("id,name,level,sector,parent_id\nso-tai-chinh,Đảng bộ Sở Tài chính,grassroots,,dang-bo-khoi-co-quan-tinh",
            ImportFormat.Csv, db.As(Central));
        await db.Organizations.DissolveAsync("so-tai-chinh", "sáp nhập", db.As(Central));

        var added = await db.Import.ImportAsync("id,name,level,sector,parent_id\nchi-bo-ke-toan,Chi bộ Kế toán,branch,,so-cong-thuong-thai-binh",
            ImportFormat.Csv, db.As(Central));
        var placed = (await db.Tree.GetAsync("chi-bo-ke-toan"))?.ParentId;
        var underDissolved = await db.Import.ImportAsync("id,name,level,sector,parent_id\nchi-bo-ngan-sach,Chi bộ Ngân sách,branch,,so-tai-chinh",
            ImportFormat.Csv, db.As(Central));
        var movedUp = await db.Import.ImportAsync("id,name,level,sector,parent_id\nchi-bo-ke-toan,Chi bộ Kế toán,branch,,dang-bo-khoi-co-quan-tinh",
            ImportFormat.Csv, db.As(Central));

        Assert.Equal((1, 0), (added.Registered, added.Errors.Count));
        Assert.Equal("so-cong-thuong-thai-binh", placed);
        var refusal = Assert.Single(underDissolved.Errors);
        Assert.Equal((2, "chi-bo-ngan-sach"), (refusal.Line, refusal.OrganizationId));
        Assert.Contains("dissolved", refusal.Reason, StringComparison.Ordinal);
        Assert.Null(await db.Tree.GetAsync("chi-bo-ngan-sach"));
        Assert.Equal((1, 0), (movedUp.Moved, movedUp.Errors.Count));
        Assert.Equal("dang-bo-khoi-co-quan-tinh", (await db.Tree.GetAsync("chi-bo-ke-toan"))!.ParentId);
    }

    [Fact]
    public async Task the_same_file_imported_four_times_at_once_registers_each_organisation_once_and_every_import_succeeds()
    {
        var csv = "id,name,level,sector,parent_id\ntu,Trung ương,central,,\n" +
            string.Concat(Enumerable.Range(1, 300).Select(i => $"chi-bo-{i},Chi bộ {i},branch,,tu\n"));
        using var start = new Barrier(4);

        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return db.Import.ImportAsync(csv, ImportFormat.Csv, db.As(Central));
        })));

        Assert.All(reports, r => Assert.True(r.Succeeded, string.Join("; ", r.Errors.Select(e => e.Reason))));
        Assert.Equal(301, reports.Sum(r => r.Registered));
        Assert.All(reports.Where(r => r.Registered == 0), r => Assert.Equal(301, r.Unchanged));
        Assert.Equal(301L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.organizations"));
        Assert.Equal(301L, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
    }

    [Theory]
    [InlineData(ImportFormat.Json, "{ \"organizations\": [ { \"id\": ", 1)]
    [InlineData(ImportFormat.Json, "{ \"orgs\": [] }", 1)]
    [InlineData(ImportFormat.Csv, "", 1)]
    [InlineData(ImportFormat.Csv, "id,name,level,sector,parent_id\n", 1)]
    [InlineData(ImportFormat.Json, "{ \"organizations\": [] }", 1)]
    [InlineData(ImportFormat.Csv, "code,title\na,b", 1)]
    [InlineData(ImportFormat.Csv, "id,name,level,sector,parent_id\nchi-bo,Chi bộ,branch,space-agency,", 2)]
    [InlineData(ImportFormat.Csv, "id,name,level,sector,parent-id\ntu,Trung ương,central,,\nkhoi,Khối,bloc,,tu", 1)]
    [InlineData(ImportFormat.Csv, "id,name,level,name\ntu,Trung ương,central,Ban Chấp hành", 1)]
    [InlineData(ImportFormat.Csv, "id,name,level,sector,parent_id\ntu,\"Trung ương,central,,\nkhoi,Khối,bloc,,tu", 2)]
    [InlineData(ImportFormat.Csv, "id,name,level,sector,parent_id\ntu,\"=HYPERLINK(\"\"http://evil.example\"\")\",central,,", 2)]
    [InlineData(ImportFormat.Json, "{ \"organizations\": [ { \"id\": \"tu\", \"name\": \"@SUM(A1)\", \"level\": \"central\" } ] }", 1)]
    [InlineData(ImportFormat.Json, "{ \"organizations\": [\n { \"id\": \"tu\", \"name\": \"Trung ương\", \"level\": \"central\", \"name\": \"Ban Chấp hành\" } ] }", 2)]
    public async Task malformed_files_are_reported_not_thrown(ImportFormat format, string content, int line)
    {
        var report = await db.Import.ImportAsync(content, format, db.As(Central));

        Assert.False(report.Succeeded);
        Assert.Contains(line, report.Errors.Select(e => e.Line));
        await AssertNothingWritten();
    }

    private async Task AssertNothingWritten()
    {
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.organizations"));
    }
}
