using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.EventStore.Resilience;

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
        // The database gone or a channel misbehaving outside an attempt: reported, and tried again after a back-off.
        var recovery = new Recovery(idle, TimeSpan.FromSeconds(30), e => logger.LogWarning(e, "Notification delivery failed; retrying"));
        await recovery.RunAsync(async ct =>
        {
            while (!ct.IsCancellationRequested)
            {
                var delivered = await delivery.DeliverBatchAsync(cancellationToken: ct);
                recovery.Progressed();
                if (delivered == 0)
                {
                    await Task.Delay(idle, ct);
                }
            }
        }, stoppingToken);
    }
}
