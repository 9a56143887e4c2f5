using CongressWorkflow.Engine.Time;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

/// <summary>Each test starts from an empty store in its class's database (reset before, never after).</summary>
public abstract class StoreTestBase(EventStoreDatabase db) : IClassFixture<EventStoreDatabase>, IAsyncLifetime
{
    protected EventStoreDatabase Db { get; } = db;

    protected ManualTimeProvider Clock { get; } = new(TestEvents.Start);

    protected PostgresEventStore Store => TestEvents.Store(Db, Clock);

    public Task InitializeAsync() => Db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
