using CongressWorkflow.EventStore.Resilience;

namespace CongressWorkflow.EventStore.Tests;

public sealed class recovering_a_background_loop
{
    [Fact]
    public async Task every_failure_is_reported_and_the_loop_runs_again_until_it_is_stopped_which_is_not_a_failure()
    {
        var reported = new List<string>();
        var runs = 0;
        using var stop = new CancellationTokenSource();
        var recovery = new Recovery(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5), e => reported.Add(e.Message));

        await recovery.RunAsync(async ct =>
        {
            runs++;
            if (runs <= 3)
            {
                throw new InvalidOperationException($"failure {runs}");
            }

            recovery.Progressed();
            await stop.CancelAsync();
            await Task.Delay(Timeout.Infinite, ct);
        }, stop.Token);

        Assert.Equal(["failure 1", "failure 2", "failure 3"], reported);
        Assert.Equal(4, runs);
    }
}
