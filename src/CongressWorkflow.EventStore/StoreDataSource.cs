using Npgsql;

namespace CongressWorkflow.EventStore;

/// <summary>The one way the product opens its PostgreSQL data source.</summary>
public static class StoreDataSource
{
    /// <summary>
    /// Statements run often are prepared automatically (unless the connection string says otherwise). Besides saving the
    /// parse, this keeps plans across pooled uses of a connection: without prepared statements Npgsql resets a returned
    /// connection with DISCARD ALL, which throws away the plans PL/pgSQL caches for append_events, so every append
    /// planned its statements afresh (measured: 0.32 ms per append without the discard, 0.77 ms with it).
    /// JIT compilation is off (unless the connection string's Options name it): PostgreSQL compiles a plan whose estimated
    /// cost is high at every execution, and the product's statements are indexed ones where that costs more than it saves
    /// (measured: the progress projection's count refresh spent 17.8 s of its 116 s compiling in a 100,000-organisation
    /// simulation).
    /// </summary>
    public static NpgsqlDataSource Create(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        if (builder.Options?.Contains("jit", StringComparison.Ordinal) != true)
        {
            builder.Options = $"{builder.Options} -c jit=off".TrimStart();
        }

        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
