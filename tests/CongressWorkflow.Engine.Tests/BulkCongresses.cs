using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;

namespace CongressWorkflow.Engine.Tests;

/// <summary>
/// Drives thousands of congresses through the Decider and the event store quickly: each congress's commands are
/// decided in memory (every one must be accepted), then many streams are appended per transaction with their inline
/// status rows. Cross-aggregate facts (the superior's window, subordinates held) are given by the caller, who built
/// the tree and knows them.
/// </summary>
public sealed class BulkCongresses(CommandPipeline pipeline)
{
    private readonly List<PendingWrite> _pending = [];

    public int Congresses { get; private set; }

    public void Add(IEnumerable<CongressCommand> commands)
    {
        var state = Congress.None;
        var events = new List<object>();
        string? streamId = null;
        foreach (var command in commands)
        {
            streamId ??= command.CongressId;
            var decided = CongressDecider.Decide(command, state) switch
            {
                Decision.Accepted accepted => accepted.Events,
                Decision.Rejected rejected => throw new InvalidOperationException($"{command.GetType().Name} on {command.CongressId}: {rejected.Error}"),
                _ => throw new InvalidOperationException(),
            };
            foreach (var e in decided)
            {
                events.Add(e);
                state = Congress.Evolve(state, e);
            }
        }

        var final = state;
        _pending.Add(new PendingWrite(streamId!, CongressService.Aggregate.StreamType, 0, events,
            (connection, transaction, e, version, ctx) => CongressService.ProjectStatusAsync(connection, transaction, e, final, version, ctx)));
        Congresses++;
    }

    public async Task FlushAsync(CommandContext context, int streamsPerTransaction = 400)
    {
        foreach (var chunk in _pending.Chunk(streamsPerTransaction))
        {
            await pipeline.AppendAllAsync(chunk, context, Guid.NewGuid());
        }

        _pending.Clear();
    }
}
