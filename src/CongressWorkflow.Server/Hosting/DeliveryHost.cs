using CongressWorkflow.Engine.Deadlines;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// The delivery worker, on every node (Notifications:Deliver=false turns it off): drains the notification channels of
/// the outbox, sharing the work with other nodes through leases, and rests a moment when nothing is due.
/// </summary>
public sealed class DeliveryHost(NotificationDelivery delivery, IConfiguration configuration, ILogger<DeliveryHost> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue("Notifications:Deliver", defaultValue: true))
        {
            return;
        }

        var idle = configuration.GetValue("Notifications:PollInterval", TimeSpan.FromSeconds(1));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await delivery.DeliverBatchAsync(cancellationToken: stoppingToken) > 0)
                {
                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database went away or a channel misbehaved outside an attempt: report it and try again shortly.
                logger.LogWarning(e, "Notification delivery failed; retrying");
            }

            try
            {
                await Task.Delay(idle, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
