using Polly;
using Polly.Retry;

namespace CongressWorkflow.EventStore.Resilience;

/// <summary>
/// How the product's background loops (the projection daemon, the notification delivery worker) live through failures,
/// on Polly: a failed run is reported and run again, without end, after an exponential back-off with jitter from
/// <c>first</c> up to <c>longest</c>. The back-off counts the failures since the loop last made progress, so a loop
/// that recovered and ran for hours starts again from the short delay the next time it fails.
/// </summary>
public sealed class Recovery
{
    private int _failuresSinceProgress;

    public Recovery(TimeSpan first, TimeSpan longest, Action<Exception> report)
    {
        Pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
                DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(Backoff(first, longest, _failuresSinceProgress)),
                OnRetry = arguments =>
                {
                    Interlocked.Increment(ref _failuresSinceProgress);
                    report(arguments.Outcome.Exception!);
                    return default;
                },
            })
            .Build();
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>Says the loop got somewhere: the next failure waits the shortest delay again.</summary>
    public void Progressed() => Interlocked.Exchange(ref _failuresSinceProgress, 0);

    /// <summary>Runs the loop until it is stopped (the token) or fails in a way that is not a failure (cancellation).</summary>
    public async Task RunAsync(Func<CancellationToken, ValueTask> loop, CancellationToken stopping)
    {
        try
        {
            await Pipeline.ExecuteAsync(loop, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped on purpose.
        }
    }

    /// <summary>first · 2^(failures − 1), at most longest, spread by ±25 % so that nodes do not retry in step.</summary>
    private static TimeSpan Backoff(TimeSpan first, TimeSpan longest, int failures)
    {
        var exponential = first.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 16));
        var capped = Math.Min(exponential, longest.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.75 + Random.Shared.NextDouble() * 0.5));
    }
}
