using CongressWorkflow.EventStore.Serialization;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

public sealed class rejecting_bad_input(EventStoreDatabase db) : StoreTestBase(db)
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("line\nbreak")]
    public async Task a_missing_or_malformed_stream_id_is_a_typed_error(string streamId)
    {
        var append = await Assert.ThrowsAsync<EventStoreException>(() =>
            Store.AppendAsync(streamId, "roster", ExpectedVersion.Any, [TestEvents.Joined("A")], TestEvents.Meta));
        var read = await Assert.ThrowsAsync<EventStoreException>(() => Store.ReadStreamAsync(streamId));

        Assert.Equal(EventStoreErrorCodes.InvalidStreamId, append.Code);
        Assert.Equal(EventStoreErrorCodes.InvalidStreamId, read.Code);
        await AssertNothingStored();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-42)]
    public void a_negative_expected_version_is_a_typed_error(long version)
    {
        var error = Assert.Throws<EventStoreException>(() => ExpectedVersion.Exactly(version));

        Assert.Equal(EventStoreErrorCodes.InvalidExpectedVersion, error.Code);
        Assert.Contains(version.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_unregistered_event_type_is_rejected_on_append()
    {
        var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(
            TestEvents.NewStreamId(), "roster", ExpectedVersion.Any, [new NewEvent(Guid.NewGuid(), new { Anonymous = true })], TestEvents.Meta));
        var named = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(
            TestEvents.NewStreamId(), "roster", ExpectedVersion.Any,
            [new NewEvent(Guid.NewGuid(), new JsonEventData("test.never-registered", 1, "{}"))], TestEvents.Meta));

        Assert.Equal(EventStoreErrorCodes.UnknownEventType, error.Code);
        Assert.Equal(EventStoreErrorCodes.UnknownEventType, named.Code);
        await AssertNothingStored();
    }

    [Fact]
    public async Task an_event_type_unknown_to_the_reader_is_a_typed_error_on_read()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("A")], TestEvents.Meta);
        var readerThatKnowsLess = new PostgresEventStore(Db.DataSource, new EventTypeRegistry().Register<MemberRenamed>(TestEvents.MemberRenamedName, 2), Clock);

        var error = await Assert.ThrowsAsync<EventStoreException>(() => readerThatKnowsLess.ReadStreamAsync(stream));

        Assert.Equal(EventStoreErrorCodes.UnknownEventType, error.Code);
        Assert.Contains("test.member-joined", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    public async Task malformed_json_data_is_a_typed_error(string json)
    {
        var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(
            TestEvents.NewStreamId(), "roster", ExpectedVersion.Any,
            [new NewEvent(Guid.NewGuid(), new JsonEventData("test.member-joined", 1, json))], TestEvents.Meta));

        Assert.Equal(EventStoreErrorCodes.InvalidEventData, error.Code);
        await AssertNothingStored();
    }

    [Fact]
    public async Task stored_json_that_does_not_fit_its_type_is_a_typed_error_on_read()
    {
        var stream = TestEvents.NewStreamId();
        await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new JsonEventData("test.member-joined", 1, "{\"name\": 5}"))], TestEvents.Meta);

        var error = await Assert.ThrowsAsync<EventStoreException>(() => Store.ReadStreamAsync(stream));

        Assert.Equal(EventStoreErrorCodes.InvalidEventData, error.Code);
    }

    [Fact]
    public async Task an_append_without_events_or_actor_is_a_typed_error()
    {
        var empty = await Assert.ThrowsAsync<EventStoreException>(() =>
            Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.Any, [], TestEvents.Meta));
        var anonymous = await Assert.ThrowsAsync<EventStoreException>(() => Store.AppendAsync(TestEvents.NewStreamId(), "roster",
            ExpectedVersion.Any, [TestEvents.Joined("A")], TestEvents.Meta with { Actor = new Actor("", "secretary") }));

        Assert.Equal(EventStoreErrorCodes.InvalidAppend, empty.Code);
        Assert.Equal(EventStoreErrorCodes.InvalidAppend, anonymous.Code);
        await AssertNothingStored();
    }

    private async Task AssertNothingStored()
    {
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM event_store.streams"));
    }
}
