using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

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
}
