using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace CongressWorkflow.Server.Tests;

/// <summary>Tampering with the store through SQL, on a database of its own (what it breaks would spill into other tests).</summary>
public sealed class the_store_tampered_with(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task a_stored_event_the_server_cannot_read_is_a_500_with_its_code_not_a_client_error()
    {
        var organization = "unreadable-" + Guid.NewGuid().ToString("N")[..8];
        (await fixture.Http.PostAsJsonAsync("/api/organizations", new { id = organization, name = "Đảng bộ Khối", level = "bloc", parentId = ServerFixture.Root }))
            .EnsureSuccessStatusCode();
        var stream = "org-" + organization;
        // As if a newer release had written an event type this one does not know.
        await using (var edit = fixture.Store.DataSource.CreateCommand(
            "UPDATE event_store.events SET event_type = 'organization.renamed-in-a-future-release' WHERE stream_id = $1"))
        {
            edit.Parameters.Add(new() { Value = stream });
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        }

        var response = await fixture.Http.GetAsync($"/api/streams/{stream}/events");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("unreadable-event", problem.GetProperty("code").GetString());
        Assert.Contains("organization.renamed-in-a-future-release", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }


    [Fact]
    public async Task a_signed_checkpoint_exposes_history_rewritten_after_it_and_an_unknown_stream_is_404()
    {
        var organization = "checkpointed-" + Guid.NewGuid().ToString("N")[..8];
        (await fixture.Http.PostAsJsonAsync("/api/organizations", new { id = organization, name = "Đảng bộ Khối", level = "bloc", parentId = ServerFixture.Root }))
            .EnsureSuccessStatusCode();
        var taken = await fixture.Http.PostAsync("/api/audit/checkpoints", null);
        var latest = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/audit/checkpoints/latest");
        var before = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/store/verify");

        // Someone with SQL access renumbers the organisation's event: the chain itself stays consistent.
        await using (var edit = fixture.Store.DataSource.CreateCommand(
            "UPDATE event_store.events SET global_position = global_position + 1000000 WHERE stream_id = $1"))
        {
            edit.Parameters.Add(new() { Value = "org-" + organization });
            await edit.ExecuteNonQueryAsync();
        }

        var after = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/store/verify");
        var withTheirCopy = await fixture.Http.PostAsJsonAsync("/api/store/verify", latest);
        var unknown = await fixture.Http.GetAsync("/api/store/verify?stream=org-no-such-" + organization);

        // Put the event back where it was: the other tests of this class share the store.
        await using (var undo = fixture.Store.DataSource.CreateCommand(
            "UPDATE event_store.events SET global_position = global_position - 1000000 WHERE stream_id = $1"))
        {
            undo.Parameters.Add(new() { Value = "org-" + organization });
            await undo.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
        Assert.True(before.GetProperty("isIntact").GetBoolean(), before.ToString());
        Assert.True(before.GetProperty("checkpointsChecked").GetInt32() >= 1);
        Assert.False(after.GetProperty("isIntact").GetBoolean());
        Assert.Contains(after.GetProperty("violations").EnumerateArray(), v => v.GetProperty("streamId").GetString() == "org-" + organization
            && v.GetProperty("reason").GetString()!.Contains("moved from global position", StringComparison.Ordinal));
        Assert.False((await withTheirCopy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isIntact").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>
    /// The listing and the newest checkpoint are read as the files stream by (a national store's is 215 MB): the newest
    /// is sent as the file it was written, and a file that is not a checkpoint is left out of both and reported by the
    /// verification, which reads the checkpoints one at a time.
    /// </summary>
    [Fact]
    public async Task the_newest_readable_checkpoint_is_sent_as_written_and_an_unreadable_file_is_left_out_of_the_list_and_reported()
    {
        var taken = await (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).Content.ReadFromJsonAsync<JsonElement>();
        var folder = (await fixture.Http.GetFromJsonAsync<JsonElement>("/api/audit/checkpoints")).GetProperty("folder").GetString()!;
        var written = await File.ReadAllBytesAsync(Path.Combine(folder, taken.GetProperty("file").GetString()!));
        var unreadable = Path.Combine(folder, "checkpoint-99991231T000000000Z.json");
        await File.WriteAllTextAsync(unreadable, """{"checkpoint": {"takenAt": "9999-12-31T00:00:00Z", "headPosition": 1, "streams": [""");
        try
        {
            var list = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/audit/checkpoints");
            var latest = await fixture.Http.GetAsync("/api/audit/checkpoints/latest");
            var verified = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/store/verify");

            var listed = list.GetProperty("checkpoints").EnumerateArray().ToList();
            Assert.DoesNotContain(listed, c => c.GetProperty("file").GetString() == Path.GetFileName(unreadable));
            var last = listed[^1];
            foreach (var field in new[] { "file", "takenAt", "headPosition", "streams", "root" })
            {
                Assert.Equal(taken.GetProperty(field).ToString(), last.GetProperty(field).ToString());
            }

            Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
            Assert.Equal("application/json", latest.Content.Headers.ContentType?.MediaType);
            Assert.Equal(written, await latest.Content.ReadAsByteArrayAsync());
            Assert.Equal(listed.Count + 1, verified.GetProperty("checkpointsChecked").GetInt32());
            Assert.Contains(verified.GetProperty("violations").EnumerateArray(),
                v => v.GetProperty("reason").GetString()!.StartsWith($"{Path.GetFileName(unreadable)} cannot be read: the document is not whole JSON", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(unreadable);
        }
    }

    /// <summary>
    /// A national store's checkpoint is 215 MB, and the archive keeps many: a bundle's checkpoint is chosen by the times
    /// in the files' names and only that file is read, and what a file says of itself is read once.
    /// </summary>
    [Fact]
    public async Task a_bundle_for_a_period_is_pinned_by_the_first_checkpoint_after_it_chosen_by_name_and_a_file_is_read_through_once()
    {
        var organization = "pinned-" + Guid.NewGuid().ToString("N")[..8];
        async Task<JsonElement> Take(string name)
        {
            (await fixture.Http.PostAsJsonAsync("/api/organizations", new { id = organization + name, name = "Đảng bộ Khối", level = "bloc", parentId = ServerFixture.Root }))
                .EnsureSuccessStatusCode();
            return await (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).Content.ReadFromJsonAsync<JsonElement>();
        }

        var first = await Take("-a");
        var second = await Take("-b");
        await Take("-c");
        // An archive that knows none of the files yet, over the same folder.
        var archive = ActivatorUtilities.CreateInstance<CheckpointArchive>(fixture.Server.App.Services);
        var files = archive.Files().Count;

        var chosen = await archive.FirstTakenFromAsync(second.GetProperty("takenAt").GetDateTimeOffset(), CancellationToken.None);
        var readToChoose = archive.SummaryReads;
        var listed = await archive.SummariesAsync(CancellationToken.None);
        var readToList = archive.SummaryReads - readToChoose;
        await archive.SummariesAsync(CancellationToken.None);
        var readToListAgain = archive.SummaryReads - readToChoose - readToList;

        // Over HTTP: the period ends yesterday (UTC), so the first checkpoint taken today pins it.
        var startOfToday = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
        var firstToday = listed.First(c => c.Summary is not null && c.Summary.TakenAt >= startOfToday).Summary!;
        var bundle = await fixture.Http.GetFromJsonAsync<JsonElement>(
            $"/api/audit/bundle?root={organization}-a&to={startOfToday.AddDays(-1):yyyy-MM-dd}");

        Assert.Equal(Path.GetFileName(chosen?.File), second.GetProperty("file").GetString());
        Assert.Equal(second.GetProperty("headPosition").GetInt64(), chosen?.Summary.HeadPosition);
        Assert.Equal(1, readToChoose);
        Assert.Equal(files - 1, readToList); // the one chosen is known already
        Assert.Equal(0, readToListAgain);
        Assert.True(first.GetProperty("headPosition").GetInt64() >= firstToday.HeadPosition);
        Assert.Equal(firstToday.HeadPosition, bundle.GetProperty("pin").GetProperty("statement").GetProperty("headPosition").GetInt64());
    }

    /// <summary>
    /// Thinning the archive removes what the retention no longer keeps once the store is found to extend it and the
    /// newest; with nothing kept whole, a day keeps its last checkpoint. A store changed under them removes nothing.
    /// </summary>
    [Fact]
    public async Task thinning_keeps_the_last_checkpoint_of_each_day_and_removes_nothing_while_the_store_no_longer_extends_them()
    {
        var organization = "thinned-" + Guid.NewGuid().ToString("N")[..8];
        async Task Take(string name)
        {
            (await fixture.Http.PostAsJsonAsync("/api/organizations", new { id = organization + name, name = "Đảng bộ Khối", level = "bloc", parentId = ServerFixture.Root }))
                .EnsureSuccessStatusCode();
            (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).EnsureSuccessStatusCode();
        }

        var archive = fixture.Server.App.Services.GetRequiredService<CheckpointArchive>();
        var job = ActivatorUtilities.CreateInstance<CheckpointThinningJob>(fixture.Server.App.Services, new CongressWorkflow.Integrity.CheckpointRetention(TimeSpan.Zero, TimeSpan.FromDays(31)));
        await Take("-a");
        await Take("-b");
        var before = archive.Files();

        // Someone with SQL access renumbers the first organisation's event.
        async Task Renumber(int by)
        {
            await using var edit = fixture.Store.DataSource.CreateCommand("UPDATE event_store.events SET global_position = global_position + $2 WHERE stream_id = $1");
            edit.Parameters.Add(new() { Value = "org-" + organization + "-a" });
            edit.Parameters.Add(new() { Value = (long)by });
            await edit.ExecuteNonQueryAsync();
        }

        await Renumber(1_000_000);
        CheckpointThinning whileChanged;
        try
        {
            whileChanged = await job.RunAsync(CancellationToken.None);
        }
        finally
        {
            await Renumber(-1_000_000);
        }

        var afterChange = archive.Files();
        var thinned = await job.RunAsync(CancellationToken.None);
        var after = archive.Files();
        var verified = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/store/verify");
        var bundle = await fixture.Http.GetAsync($"/api/audit/bundle?root={organization}-a");

        Assert.True(before.Count >= 2);
        Assert.Empty(whileChanged.Removed);
        Assert.Contains(whileChanged.Violations, v => v.StreamId == $"org-{organization}-a");
        Assert.Equal(before, afterChange);
        Assert.Empty(thinned.Violations);
        Assert.Equal(before[^1], after[^1]);
        // One a UTC day: the last of each.
        Assert.Equal(before.GroupBy(f => CheckpointArchive.TakenAtByName(f)!.Value.UtcDateTime.Date).Select(day => day.Last()), after);
        Assert.Equal(before.Count - after.Count, thinned.Removed.Count);
        Assert.True(thinned.BytesFreed > 0);
        // (Another test of this class leaves an event of its own unreadable.)
        Assert.DoesNotContain(verified.GetProperty("violations").EnumerateArray(), v => v.GetProperty("streamId").GetString()!.Contains(organization, StringComparison.Ordinal));
        Assert.Equal(after.Count, verified.GetProperty("checkpointsChecked").GetInt32());
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
    }

    /// <summary>
    /// A store cut back before the newest checkpoint was taken and restored exactly since extends both checkpoints, but
    /// the newest no longer reaches the older one's head of that stream: the older one is then kept.
    /// </summary>
    [Fact]
    public async Task thinning_removes_nothing_while_the_newest_checkpoint_does_not_reach_an_older_ones_head()
    {
        var organization = "cut-back-" + Guid.NewGuid().ToString("N")[..8];
        var stream = "org-" + organization;
        (await fixture.Http.PostAsJsonAsync("/api/organizations", new { id = organization, name = "Đảng bộ Khối", level = "bloc", parentId = ServerFixture.Root }))
            .EnsureSuccessStatusCode();
        (await fixture.Http.PutAsJsonAsync($"/api/organizations/{organization}/name", new { name = "Đảng bộ Khối (mới)" })).EnsureSuccessStatusCode();
        var older = new List<string>();
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var taken = await (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).Content.ReadFromJsonAsync<JsonElement>();
            older.Add(taken.GetProperty("file").GetString()!);
        }

        var archive = fixture.Server.App.Services.GetRequiredService<CheckpointArchive>();
        var job = ActivatorUtilities.CreateInstance<CheckpointThinningJob>(fixture.Server.App.Services, new CongressWorkflow.Integrity.CheckpointRetention(TimeSpan.Zero, TimeSpan.FromDays(31)));

        // Someone with SQL access cuts the stream back to its first event, a checkpoint is taken, and the event is put back.
        async Task Sql(string sql)
        {
            await using var command = fixture.Store.DataSource.CreateCommand(sql);
            command.Parameters.Add(new() { Value = stream });
            await command.ExecuteNonQueryAsync();
        }

        await Sql("CREATE TABLE public.cut_back AS SELECT * FROM event_store.events WHERE stream_id = $1 AND stream_version = 2");
        await Sql("DELETE FROM event_store.events WHERE stream_id = $1 AND stream_version = 2");
        await Sql("UPDATE event_store.streams SET version = 1, last_hash = (SELECT hash FROM event_store.events WHERE stream_id = $1 AND stream_version = 1) WHERE stream_id = $1");
        (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).EnsureSuccessStatusCode();
        await Sql("INSERT INTO event_store.events SELECT * FROM public.cut_back WHERE stream_id = $1");
        await Sql("UPDATE event_store.streams SET version = 2, last_hash = (SELECT hash FROM public.cut_back WHERE stream_id = $1) WHERE stream_id = $1");
        await Sql("DROP TABLE public.cut_back");
        var before = archive.Files();

        var thinning = await job.RunAsync(CancellationToken.None);

        Assert.Empty(thinning.Removed);
        Assert.Equal(before, archive.Files());
        // Each older checkpoint's head of the stream, named with its file (the files are read side by side).
        Assert.Equal(2, thinning.Violations.Count);
        Assert.All(thinning.Violations, v => Assert.Equal((stream, 2L), (v.StreamId, v.StreamVersion)));
        Assert.Equal(older.Order(), thinning.Violations.Select(v => older.Single(f => v.Reason.StartsWith(f, StringComparison.Ordinal))).Order());
        Assert.All(thinning.Violations, v => Assert.Contains("does not reach it", v.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_scheduled_checkpoint_is_not_taken_again_while_nothing_has_been_appended_since_the_newest()
    {
        var job = ActivatorUtilities.CreateInstance<CheckpointJob>(fixture.Server.App.Services);
        var folder = (await fixture.Http.GetFromJsonAsync<JsonElement>("/api/audit/checkpoints")).GetProperty("folder").GetString()!;
        int Taken() => Directory.Exists(folder) ? Directory.GetFiles(folder, "checkpoint-*.json").Length : 0;

        await job.RunAsync(CancellationToken.None);
        var first = Taken();
        await job.RunAsync(CancellationToken.None);
        var again = Taken();
        (await fixture.Http.PostAsJsonAsync("/api/organizations",
            new { id = "appended-" + Guid.NewGuid().ToString("N")[..8], name = "Đảng bộ mới", level = "bloc", parentId = ServerFixture.Root })).EnsureSuccessStatusCode();
        await job.RunAsync(CancellationToken.None);
        var onDemand = await fixture.Http.PostAsync("/api/audit/checkpoints", null);

        Assert.True(first >= 1);
        Assert.Equal(first, again);
        Assert.Equal(first + 2, Taken());
        Assert.Equal(HttpStatusCode.Created, onDemand.StatusCode);
    }
}
