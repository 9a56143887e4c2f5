using Npgsql;

namespace CongressWorkflow.EventStore;

public static class PositionalParameters
{
    /// <summary>Adds $1, $2, … in order; a null becomes SQL NULL.</summary>
    public static void AddPositional(this NpgsqlParameterCollection parameters, params object?[] values)
    {
        foreach (var value in values)
        {
            parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
    }
}
