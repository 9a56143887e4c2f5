using System.Text.Json;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

public sealed class the_organisation_tree(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await BuildTreeAsync(db);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task a_subtree_is_one_query_and_a_move_carries_the_subtree_along()
    {
        await db.Organizations.RegisterAsync("dang-bo-bo-tai-chinh", "Đảng bộ Bộ Tài chính", OrganizationLevel.Ministry, Sector.StateManagement, Bloc, db.As(Central));

        var before = await db.Tree.SubtreeAsync(Ministry);
        await db.Organizations.MoveAsync(Centre, "dang-bo-bo-tai-chinh", db.As(Central));
        var ministryAfter = await db.Tree.SubtreeAsync(Ministry);
        var financeAfter = await db.Tree.SubtreeAsync("dang-bo-bo-tai-chinh");
        var ancestry = await db.Tree.AncestryAsync(Branch1);

        Assert.Equal([Ministry, Centre, Branch2, Branch1], before.Select(o => o.Id));
        Assert.Equal([Ministry], ministryAfter.Select(o => o.Id));
        Assert.Equal(["dang-bo-bo-tai-chinh", Centre, Branch2, Branch1], financeAfter.Select(o => o.Id));
        Assert.Equal([Central, Bloc, "dang-bo-bo-tai-chinh", Centre, Branch1], ancestry.Select(o => o.Id));
    }

    [Fact]
    public async Task walking_up_from_a_batch_of_branches_looks_up_their_ancestors_and_reads_no_other_organisation()
    {
        await AddGrassrootsAndBranchesAsync();
        var starts = Enumerable.Range(1, 500).Select(b => $"chi-bo-{b * 7}").ToArray();

        var plan = await PlanAsync(OrganizationTree.UpwardsSql, starts, 2);
        var walked = await db.ScalarAsync<long>($"SELECT count(*) FROM ({OrganizationTree.UpwardsSql}) up", starts, 2);

        Assert.Equal(500 + 40 + 1, walked);
        // Each level above the starts: one lookup per organisation of the level below, never a scan of the table.
        var climb = QueryPlans.Nodes(plan).Single(n => n.GetProperty("Node Type").GetString() == "Recursive Union").GetProperty("Plans")[1];
        Assert.Equal(["Nested Loop", "WorkTable Scan", "Limit", "Index Scan"], QueryPlans.Nodes(climb).Select(n => n.GetProperty("Node Type").GetString()));
    }

    [Fact]
    public async Task looking_down_from_a_batch_of_committees_finds_each_child_and_its_congress_by_key()
    {
        await AddGrassrootsAndBranchesAsync();
        // Three branches in four have planned their congress, one in four has held it.
        await db.ExecuteAsync($"""
            INSERT INTO congress.campaigns (campaign_id, name, directive, term_start, term_end, branch_term_end, started_at)
            VALUES ('{Campaign}', 'Đại hội XIII', '35-CT/TW', 2020, 2025, 2022, '2019-05-30') ON CONFLICT DO NOTHING;
            INSERT INTO congress.congresses (congress_id, campaign_id, organization_id, stage, is_pilot, plan_document, planned_date, window_start,
                window_end, convened_on, version)
            SELECT 'congress-{Campaign}-chi-bo-' || b, '{Campaign}', 'chi-bo-' || b, CASE WHEN b <= 1000 THEN 'convened' ELSE 'planned' END, false,
                   '01-KH/CB', date '2020-05-01', date '2020-04-01', date '2020-06-30', CASE WHEN b <= 1000 THEN date '2020-05-01' END, 1
            FROM generate_series(1, 3000) b;
            ANALYZE congress.congresses;
            """);
        var committees = Enumerable.Range(1, 40).Select(g => $"co-so-{g}").ToArray();
        var campaigns = committees.Select(_ => Campaign).ToArray();

        var followers = await PlanAsync(CongressService.ChildrenWithCongressesSql, Enumerable.Range(0, 40).ToArray(), campaigns, committees);
        var notConvened = await PlanAsync(CongressService.SubordinatesNotConvenedSql, campaigns, committees);

        // 100 branches under each committee; each branch and its congress found by index, neither table read whole.
        Assert.Equal(4_000, followers.GetProperty("Actual Rows").GetInt32());
        Assert.Equal(3_000, notConvened.GetProperty("Actual Rows").GetInt32());
        Assert.All(new[] { followers, notConvened }, plan =>
            Assert.DoesNotContain(QueryPlans.Nodes(plan).Select(n => n.GetProperty("Node Type").GetString()), type => type is "Seq Scan" or "Hash"));
    }

    [Fact]
    public async Task on_a_new_installation_the_cached_plans_of_the_lookups_down_the_tree_find_each_congress_by_its_unique_key()
    {
        // Before any congress exists (no statistics), a cached plan once found a congress by campaign and organisation
        // through an index on (campaign, superior): every congress of the campaign read for each child, 4–17 s a batch
        // by the end of a 100,000-unit plans phase.
        var database = await QueryPlans.NewDatabaseAsync("new-installation-tree", dataSource => EngineSchema.MigrateAsync(dataSource));

        var followers = await QueryPlans.GenericPlanAsync(database, CongressService.ChildrenWithCongressesSql, "int[]", "text[]", "text[]");
        var notConvened = await QueryPlans.GenericPlanAsync(database, CongressService.SubordinatesNotConvenedSql, "text[]", "text[]");

        Assert.Equal(["Index Scan on congresses_one_per_organization"], QueryPlans.AccessesTo(followers, "congresses"));
        Assert.Equal(["Index Scan on congresses_one_per_organization"], QueryPlans.AccessesTo(notConvened, "congresses"));
    }

    /// <summary>40 grassroots units of 100 branches each under the Centre, as a sweep or a batch of plans finds them.</summary>
    private async Task AddGrassrootsAndBranchesAsync() =>
        await db.ExecuteAsync($"""
            INSERT INTO congress.organizations (org_key, organization_id, name, level, parent_id, path, version)
            SELECT 100000 + g, 'co-so-' || g, 'Đảng bộ cơ sở ' || g, 4, '{Centre}', c.path || (100000 + g)::text, 1
            FROM generate_series(1, 40) g, congress.organizations c WHERE c.organization_id = '{Centre}';
            INSERT INTO congress.organizations (org_key, organization_id, name, level, parent_id, path, version)
            SELECT 200000 + b, 'chi-bo-' || b, 'Chi bộ ' || b, 5, p.organization_id, p.path || (200000 + b)::text, 1
            FROM generate_series(1, 4000) b JOIN congress.organizations p ON p.organization_id = 'co-so-' || (1 + b % 40);
            ANALYZE congress.organizations;
            """);

    private async Task<JsonElement> PlanAsync(string sql, params object[] parameters) =>
        JsonDocument.Parse(await db.ScalarAsync<string>("EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) " + sql, parameters)).RootElement[0].GetProperty("Plan");

    [Fact]
    public async Task tree_rules_reject_with_codes_and_change_nothing()
    {
        var underBranch = await Assert.ThrowsAsync<CommandRejectedException>(() =>
            db.Organizations.RegisterAsync("x", "X", OrganizationLevel.Branch, null, Branch1, db.As(Central)));
        var unknownParent = await Assert.ThrowsAsync<CommandRejectedException>(() =>
            db.Organizations.RegisterAsync("y", "Y", OrganizationLevel.Branch, null, "khong-co", db.As(Central)));
        var upward = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Organizations.MoveAsync(Ministry, Centre, db.As(Central)));
        var withChildren = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Organizations.DissolveAsync(Centre, "sáp nhập", db.As(Central)));

        Assert.Equal(OrganizationErrors.LevelNotBelowParent, underBranch.Code);
        Assert.Equal(OrganizationErrors.InvalidParent, unknownParent.Code);
        Assert.Equal(OrganizationErrors.Cycle, upward.Code);
        Assert.Equal(OrganizationErrors.HasChildren, withChildren.Code);
        Assert.Equal(6L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.organizations"));
        Assert.Equal(Bloc, (await db.Tree.GetAsync(Ministry))!.ParentId);
    }

    [Fact]
    public async Task concurrent_moves_and_registrations_inside_the_moved_subtree_keep_every_path_right()
    {
        await db.Organizations.RegisterAsync("bo-2", "Bộ 2", OrganizationLevel.Ministry, null, Bloc, db.As(Central));
        for (var round = 0; round < 8; round++)
        {
            // The Centre's subtree moves between the two ministries while branches join it and one of its branches moves.
            var target = round % 2 == 0 ? "bo-2" : Ministry;
            await Task.WhenAll(
                db.Organizations.MoveAsync(Centre, target, db.As(Central)),
                db.Organizations.RegisterAsync($"chi-bo-moi-{round}", "Chi bộ mới", OrganizationLevel.Branch, null, Centre, db.As(Central)),
                db.Organizations.MoveAsync(round % 2 == 0 ? Branch1 : Branch2, Centre, db.As(Central)));
        }

        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM congress.organizations c JOIN congress.organizations p ON p.organization_id = c.parent_id
            WHERE c.path <> p.path || subpath(c.path, nlevel(c.path) - 1, 1)
            """));
        Assert.Equal(12, (await db.Tree.SubtreeAsync(Ministry)).Count);
    }

    [Fact]
    public async Task renaming_and_dissolving_show_in_the_tree()
    {
        await db.Organizations.RenameAsync(Branch2, "Chi bộ Phòng Truyền thông", db.As(Central));
        await db.Organizations.DissolveAsync(Branch1, "sáp nhập vào Chi bộ Phòng Truyền thông", db.As(Central));

        var children = await db.Tree.ChildrenAsync(Centre);

        Assert.Equal("Chi bộ Phòng Truyền thông", children.Single(c => c.Id == Branch2).Name);
        Assert.True(children.Single(c => c.Id == Branch1).IsDissolved);
        Assert.Equal(1, (await db.Tree.ChildrenAsync(Centre)).Count(c => !c.IsDissolved));
    }
}
