using System.Globalization;
using System.Text.Json;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore.Serialization;
using CongressWorkflow.Server.Hosting;
using static CongressWorkflow.Server.Api.RequestParsing;

namespace CongressWorkflow.Server.Api;

/// <summary>A deadline policy as it arrives; a field left out keeps the value of the policy in force.</summary>
public sealed record DeadlinePolicyRequest(
    IReadOnlyList<int>? ReminderDaysBefore, bool? OverdueAlert, int? EscalateAfterDays, int? EscalateFurtherAfterDays,
    IReadOnlyList<DayOfWeek>? QuietWeekdays, IReadOnlyList<DateOnly>? QuietDates, IReadOnlyList<string>? ReminderRoles,
    IReadOnlyList<string>? OverdueRoles, IReadOnlyList<string>? EscalationRoles, int? DecisionDays, int? RecognitionDays, int? DisseminationDays,
    int? RescheduleDays, string? Reason);

public sealed record ContactDto(string? Role, string? Email, string? Name, string? Language);

public sealed record ContactsRequest(IReadOnlyList<ContactDto>? Contacts);

public sealed record SubscriptionRequest(DeliveryChannel? Channel, string? RootOrganizationId, string? Url);

/// <summary>Deadlines and what they set off: the policy, the board, the notification ledger, deliveries, subscriptions, contacts and the inbox.</summary>
public static class DeadlineEndpoints
{
    public static void MapDeadlineEndpoints(this IEndpointRouteBuilder app)
    {
        var campaign = app.MapGroup("/api/campaigns/{campaignId}");
        campaign.MapGet("/deadline-policy", async (string campaignId, DeadlinePolicyService policies, CancellationToken ct) =>
            TypedResults.Ok(PolicyInForceView.From(await policies.GetAsync(campaignId, ct)))).Requires(Capability.Read, routeValue: null);
        campaign.MapPut("/deadline-policy", async (string campaignId, DeadlinePolicyRequest r, HttpContext http, DeadlinePolicyService policies,
            TimeProvider time, CancellationToken ct) =>
        {
            var current = (await policies.GetAsync(campaignId, ct)).Policy;
            var policy = new DeadlinePolicy(r.ReminderDaysBefore ?? current.ReminderDaysBefore, r.OverdueAlert ?? current.OverdueAlert,
                r.EscalateAfterDays ?? current.EscalateAfterDays, r.EscalateFurtherAfterDays ?? current.EscalateFurtherAfterDays,
                r.QuietWeekdays ?? current.QuietWeekdays, r.QuietDates ?? current.QuietDates, r.ReminderRoles ?? current.ReminderRoles,
                r.OverdueRoles ?? current.OverdueRoles, r.EscalationRoles ?? current.EscalationRoles, r.DecisionDays ?? current.DecisionDays,
                r.RecognitionDays ?? current.RecognitionDays, r.DisseminationDays ?? current.DisseminationDays, r.RescheduleDays ?? current.RescheduleDays);
            return OrganizationEndpoints.Written(http, await policies.SetAsync(campaignId, policy, r.Reason ?? string.Empty, Actor(http, time), ExpectedVersion(http), ct));
        }).Requires(Capability.Operate, routeValue: null);
        // Both axes of time, as on the monitoring reports: asOf, the day the board is for; knownAt, what had been recorded
        // by then (the board is then folded from the events recorded by that moment, the ledger cut at it).
        campaign.MapGet("/deadlines/{organizationId}", async (string campaignId, string organizationId, string? asOf, string? knownAt, int? days, bool? met,
            DeadlineQueries queries, DeadlineBoardAsKnown asKnown, TimeProvider time, CancellationToken ct) =>
        {
            if (days is < 0 or > 366)
            {
                throw Invalid("days must be between 0 and 366");
            }

            var (day, moment) = (Day(asOf, time), Moment(knownAt, "knownAt"));
            var rows = moment is { } known
                ? await asKnown.BoardAsync(campaignId, organizationId, day, days ?? 30, met ?? false, known, cancellationToken: ct)
                : await queries.BoardAsync(campaignId, organizationId, day, days ?? 30, met ?? false, cancellationToken: ct);
            return TypedResults.Ok(rows.Select(OpenDeadlineView.From).ToList());
        }).Requires(Capability.Read);
        campaign.MapGet("/notifications/{organizationId}", async (string campaignId, string organizationId, bool? subtree, string? from, string? to,
            string? knownAt, DeadlineQueries queries, TimeProvider time, CancellationToken ct) =>
        {
            var (firstDay, lastDay) = Days(from, to, time);
            return TypedResults.Ok((await queries.LedgerAsync(campaignId, organizationId, subtree ?? true, firstDay, lastDay, Moment(knownAt, "knownAt"),
                cancellationToken: ct)).Select(NotificationView.From).ToList());
        }).Requires(Capability.Read);

        app.MapGet("/api/notifications/{notificationId:guid}", async (Guid notificationId, HttpContext http, DeadlineQueries queries, AccessGuard guard,
            CancellationToken ct) =>
        {
            var row = await queries.NotificationAsync(notificationId, ct);
            // Someone else's notification is as absent as one that does not exist.
            return row is not null && (await guard.VisibleAsync(http, [row.OrganizationId], ct)).Contains(row.OrganizationId)
                ? TypedResults.Ok(NotificationView.From(row))
                : throw OrganizationEndpoints.NotFound($"no notification {notificationId}");
        }).Requires(Capability.Read, routeValue: null);

        app.MapPost("/api/deadlines/sweep", async (DeadlineSweep sweep, CancellationToken ct) => TypedResults.Ok(SweepView.From(await sweep.RunAsync(ct))))
            .Requires(Capability.Operate, routeValue: null);
        app.MapPost("/api/deadlines/sweep/trigger", (DeadlineJobs jobs) => TypedResults.Accepted("/hangfire", new QueuedView("deadline-sweep", jobs.TriggerSweep())))
            .Requires(Capability.Operate, routeValue: null);

        app.MapGet("/api/deliveries", async (string? status, DeadlineQueries queries, CancellationToken ct) =>
        {
            if (status is not (null or "pending" or "delivered" or "retrying" or "dead-lettered"))
            {
                throw Invalid("status is one of pending, delivered, retrying, dead-lettered");
            }

            return TypedResults.Ok((await queries.DeliveriesAsync(status, cancellationToken: ct)).Select(DeliveryView.From).ToList());
        }).Requires(Capability.Operate, routeValue: null);
        app.MapPost("/api/deliveries/{deliveryId:guid}/redeliver", async (Guid deliveryId, NotificationDelivery delivery, CancellationToken ct) =>
            await delivery.RedeliverAsync([deliveryId], ct) == 1
                ? TypedResults.Accepted("/api/deliveries", new QueuedView("redelivery", deliveryId.ToString()))
                : throw OrganizationEndpoints.NotFound($"no dead-lettered delivery {deliveryId}")).Requires(Capability.Operate, routeValue: null);

        var subscriptions = app.MapGroup("/api/subscriptions");
        subscriptions.MapGet("/", async (HttpContext http, SubscriptionService service, AccessGuard guard, CancellationToken ct) =>
        {
            var all = await service.ListAsync(ct);
            var visible = await guard.VisibleAsync(http, [.. all.Select(s => s.RootOrganizationId).Distinct()], ct);
            return TypedResults.Ok(all.Where(s => visible.Contains(s.RootOrganizationId)).Select(SubscriptionView.From).ToList());
        }).Requires(Capability.Administer, c => [Caller.Of(c.HttpContext).OrganizationId]);
        subscriptions.MapPost("/", async (SubscriptionRequest r, HttpContext http, SubscriptionService service, TimeProvider time, CancellationToken ct) =>
        {
            var created = await service.CreateAsync(Required(r.Channel, "channel"), Required(r.RootOrganizationId, "rootOrganizationId"), r.Url,
                Actor(http, time), ct);
            return TypedResults.Created($"/api/subscriptions/{created.SubscriptionId}", new SubscriptionCreated(created.SubscriptionId, created.Secret, created.Result.Version));
        }).Requires(Capability.Administer, c => [c.GetArgument<SubscriptionRequest?>(0)?.RootOrganizationId ?? string.Empty]);
        subscriptions.MapDelete("/{subscriptionId}", async (string subscriptionId, HttpContext http, SubscriptionService service, AccessGuard guard,
            TimeProvider time, CancellationToken ct) =>
        {
            var subscription = (await service.ListAsync(ct)).FirstOrDefault(s => s.Id == subscriptionId);
            await guard.DemandAsync(http, Capability.Administer, subscription?.RootOrganizationId ?? string.Empty, ct);
            return OrganizationEndpoints.Written(http, await service.RemoveAsync(subscriptionId, Actor(http, time), ct));
        }).WithMetadata(new AccessRule(Capability.Administer));

        var organization = app.MapGroup("/api/organizations/{organizationId}");
        organization.MapGet("/contacts", async (string organizationId, OrganizationService service, CancellationToken ct) =>
            TypedResults.Ok((await service.ContactsAsync(organizationId, ct)).Select(ContactView.From).ToList())).Requires(Capability.Read);
        organization.MapPut("/contacts", async (string organizationId, ContactsRequest r, HttpContext http, OrganizationService service, TimeProvider time,
            CancellationToken ct) =>
        {
            var contacts = (r.Contacts ?? throw RequestParsing.Missing("contacts"))
                .Select(c => new Contact(c?.Role ?? string.Empty, c?.Email ?? string.Empty, c?.Name, c?.Language ?? "vi")).ToList();
            return OrganizationEndpoints.Written(http, await service.SetContactsAsync(organizationId, contacts, Actor(http, time), ExpectedVersion(http), ct));
        }).Requires(Capability.Administer);
        organization.MapGet("/inbox", async (string organizationId, bool? unread, DeadlineQueries queries, CancellationToken ct) =>
            TypedResults.Ok(new InboxView(await queries.UnreadCountAsync(organizationId, ct),
                [.. (await queries.InboxAsync(organizationId, 0, unread ?? false, cancellationToken: ct)).Select(InboxItemView.From)]))).Requires(Capability.Read);
        organization.MapPost("/inbox/{itemId:guid}/read", async (string organizationId, Guid itemId, DeadlineQueries queries, TimeProvider time,
            CancellationToken ct) =>
            await queries.MarkReadAsync(organizationId, itemId, time.GetUtcNow(), ct)
                ? Results.NoContent()
                : throw OrganizationEndpoints.NotFound($"no inbox item {itemId} for '{organizationId}'")).Requires(Capability.Read);

        // Server-sent events: every new inbox item as it arrives (across nodes: the stream polls the shared table).
        organization.MapGet("/inbox/stream", async (string organizationId, HttpContext http, DeadlineQueries queries, IConfiguration configuration,
            CancellationToken ct) =>
        {
            var after = long.TryParse(http.Request.Headers["Last-Event-ID"].ToString(), CultureInfo.InvariantCulture, out var last) ? last
                : long.TryParse(http.Request.Query["after"].ToString(), CultureInfo.InvariantCulture, out var fromQuery) ? fromQuery : 0;
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            var poll = configuration.GetValue("Notifications:StreamPollInterval", TimeSpan.FromSeconds(1));
            var options = EventTypeRegistry.DefaultSerializerOptions;
            await http.Response.WriteAsync(": inbox of " + organizationId + "\n\n", ct);
            await http.Response.Body.FlushAsync(ct);
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    foreach (var item in await queries.InboxAsync(organizationId, after, false, cancellationToken: ct))
                    {
                        after = item.Sequence;
                        await http.Response.WriteAsync(
                            $"id: {item.Sequence.ToString(CultureInfo.InvariantCulture)}\nevent: inbox-item\ndata: {JsonSerializer.Serialize(InboxItemView.From(item), options)}\n\n", ct);
                    }

                    await http.Response.Body.FlushAsync(ct);
                    await Task.Delay(poll, ct);
                }
            }
            catch (OperationCanceledException)
            {
                // The client went away.
            }
        }).Requires(Capability.Read);
    }

    private static RequestRejectedException Invalid(string message) => new(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery, message);
}
