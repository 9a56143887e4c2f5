using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class upcasting_old_event_versions(EventStoreDatabase db) : StoreTestBase(db)
{
    [Fact]
    public async Task a_version_1_event_is_read_in_the_current_shape()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
        [
            TestEvents.Joined("Lê Văn C"),
            new NewEvent(Guid.NewGuid(), new JsonEventData("test.member-renamed", 1, """{"name":"Lê Văn Cường"}""")),
        ], TestEvents.Meta);

        var events = await Store.ReadStreamAsync(stream);
        var folded = await Store.AggregateStreamAsync(stream, Roster.Empty, Roster.Evolve);

        Assert.Equal(1, events[1].SchemaVersion);
        Assert.Equal(new MemberRenamed("Lê Văn Cường", "not recorded before version 2"), events[1].Data);
        Assert.Equal(["Lê Văn Cường"], folded.State.Names);
        Assert.Equal(1, await Db.ScalarAsync<int>("SELECT schema_version FROM event_store.events WHERE stream_version = 2 AND stream_id = $1", stream));
    }

    [Fact]
    public async Task a_current_version_event_is_written_with_its_current_version()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new MemberRenamed("X", "typo"))], TestEvents.Meta);

        var stored = Assert.Single(await Store.ReadStreamAsync(stream));

        Assert.Equal(2, stored.SchemaVersion);
        Assert.Equal(new MemberRenamed("X", "typo"), stored.Data);
    }

    [Fact]
    public async Task a_version_newer_than_the_reader_knows_is_a_typed_error()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new JsonEventData("test.member-renamed", 3, """{"fullName":"X","reason":"r","extra":1}"""))],
            TestEvents.Meta);

        var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.ReadStreamAsync(stream));

        Assert.Equal(EventStoreErrorCodes.UnknownEventType, error.Code);
    }
}
