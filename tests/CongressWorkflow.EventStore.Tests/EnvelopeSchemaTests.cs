using System.Text.Json;
using CongressWorkflow.EventStore.Serialization;
using CongressWorkflow.Testing;
using NJsonSchema;

namespace CongressWorkflow.EventStore.Tests;

public sealed class stored_envelopes_match_their_schema(EventStoreDatabase db) : StoreTestBase(db)
{
    private static readonly JsonSchema EnvelopeSchema = SchemaFiles.Load("event-envelope.v1.schema.json");

    [Fact]
    public async Task every_stored_envelope_validates()
    {
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream,
            [TestEvents.Joined("A") with { Headers = new Dictionary<string, string> { ["document"] = "35-CT/TW" } }, TestEvents.Joined("B")],
            TestEvents.Meta with { CausationId = Guid.NewGuid() });
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream,
            [new NewEvent(Guid.NewGuid(), new MemberRenamed("C", "typo"))],
            new EventMetadata(new Actor("scheduler", "system"), Guid.NewGuid()));

        var events = await Store.ReadAllAsync(0, 100);

        Assert.Equal(3, events.Count);
        foreach (var e in events)
        {
            var json = JsonSerializer.Serialize(EventEnvelope.From(e, EventTypeRegistry.DefaultSerializerOptions),
                EventTypeRegistry.DefaultSerializerOptions);
            Assert.Empty(SchemaFiles.Validate(EnvelopeSchema, json));
        }
    }

    [Fact]
    public void the_schema_rejects_an_envelope_with_a_clr_type_name_or_a_short_hash()
    {
        var valid = JsonSerializer.SerializeToNode(new EventEnvelope(Guid.NewGuid(), "s", 1, 1, "test.member-joined", 1, TestEvents.Start,
            new Actor("u", "r"), Guid.NewGuid(), null, null, JsonSerializer.SerializeToElement(new { }), new string('a', 64)),
            EventTypeRegistry.DefaultSerializerOptions)!;
        var clrName = valid.DeepClone();
        clrName["eventType"] = "CongressWorkflow.EventStore.Tests.MemberJoined";
        var shortHash = valid.DeepClone();
        shortHash["hash"] = "abc";

        Assert.Empty(SchemaFiles.Validate(EnvelopeSchema, valid.ToJsonString()));
        Assert.Contains(SchemaFiles.Validate(EnvelopeSchema, clrName.ToJsonString()), error => error.Contains("eventType", StringComparison.Ordinal));
        Assert.Contains(SchemaFiles.Validate(EnvelopeSchema, shortHash.ToJsonString()), error => error.Contains("hash", StringComparison.Ordinal));
    }
}
