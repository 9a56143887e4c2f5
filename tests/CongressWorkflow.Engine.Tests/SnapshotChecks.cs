using System.Text.Json;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

/// <summary>What every congress's snapshot must be: its stream folded whole, at the stream's version.</summary>
public static class SnapshotChecks
{
    /// <summary>Asserts that every congress stream has a snapshot at its version, equal to the whole fold (compared as JSON); returns how many.</summary>
    public static async Task<int> AssertEveryCongressSnapshotIsItsWholeFoldAsync(EngineDatabase db)
    {
        var streams = await db.ScalarAsync<string[]>("SELECT coalesce(array_agg(stream_id ORDER BY stream_id), '{}') FROM event_store.streams WHERE stream_type = 'congress'");
        var atVersion = await db.ScalarAsync<string[]>("""
            SELECT coalesce(array_agg(sn.stream_id ORDER BY sn.stream_id), '{}') FROM event_store.snapshots sn
            JOIN event_store.streams s ON s.stream_id = sn.stream_id AND s.version = sn.version WHERE sn.shape = $1
            """, CongressService.Aggregate.Snapshots!.Name);
        var fromSnapshots = await db.Store.AggregateStreamsAsync(streams, CongressService.Aggregate.Initial, CongressService.Aggregate.Evolve,
            snapshots: CongressService.Aggregate.Snapshots);
        var whole = await db.Store.AggregateStreamsAsync(streams, CongressService.Aggregate.Initial, CongressService.Aggregate.Evolve);

        Assert.Equal(streams, atVersion);
        Assert.All(streams, stream =>
        {
            Assert.Equal(whole[stream].Version, fromSnapshots[stream].Version);
            Assert.Equal(Json(db, whole[stream].State), Json(db, fromSnapshots[stream].State));
        });
        return streams.Length;
    }

    private static string Json(EngineDatabase db, object state) => JsonSerializer.Serialize(state, db.Store.Registry.SerializerOptions);
}
