using CongressWorkflow.Domain.Common;
using CongressWorkflow.Engine;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.Engine.Time;

namespace CongressWorkflow.Testing;

/// <summary>A database of one test class's own with the engine's schema and services on a manual clock.</summary>
public class EngineDatabase : EventStoreDatabase
{
    public static readonly DateTimeOffset CampaignStart = new(2019, 10, 1, 2, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh clock at <see cref="CampaignStart"/> after every reset: each test runs its own campaign calendar.</summary>
    public ManualTimeProvider Clock { get; private set; } = new(CampaignStart);

    public PostgresEventStore Store { get; private set; } = null!;

    public CommandPipeline Pipeline { get; private set; } = null!;

    public OrganizationTree Tree { get; private set; } = null!;

    public OrganizationService Organizations { get; private set; } = null!;

    public CampaignService Campaigns { get; private set; } = null!;

    public CongressService Congresses { get; private set; } = null!;

    public OrganizationImport Import { get; private set; } = null!;

    public DeadlinePolicyService Policies { get; private set; } = null!;

    public SubscriptionService Subscriptions { get; private set; } = null!;

    public DeadlineSweep Sweep { get; private set; } = null!;

    public DeadlineQueries Deadlines { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await EngineSchema.MigrateAsync(DataSource);
        BuildServices();
    }

    private void BuildServices()
    {
        Store = new PostgresEventStore(DataSource, DomainEventTypes.CreateRegistry(), Clock);
        Pipeline = new CommandPipeline(Store, DataSource);
        Tree = new OrganizationTree(DataSource);
        Organizations = new OrganizationService(Pipeline, Tree);
        Campaigns = new CampaignService(Pipeline);
        Congresses = new CongressService(Pipeline);
        Import = new OrganizationImport(Pipeline, Tree);
        Policies = new DeadlinePolicyService(Pipeline);
        Subscriptions = new SubscriptionService(Pipeline, Tree);
        Sweep = new DeadlineSweep(Store, DataSource, Clock);
        Deadlines = new DeadlineQueries(DataSource);
    }

    public override async Task ResetAsync()
    {
        await ExecuteAsync("""
            TRUNCATE congress.congresses, congress.campaigns, congress.organizations, congress.rollup_units, congress.rollup_congresses,
                congress.rollup_plans, congress.rollup_segments, congress.rollup_counts, congress.approval_audit, congress.audit_congresses, congress.deadlines, congress.deadline_policies,
                congress.notifications, congress.deliveries, congress.inbox, congress.contacts, congress.webhook_secrets, congress.subscriptions
                RESTART IDENTITY CASCADE
            """);
        await base.ResetAsync();
        Clock = new ManualTimeProvider(CampaignStart);
        BuildServices();
    }

    /// <summary>A command context at the clock's current time.</summary>
    public CommandContext As(string organizationId, string role = "secretary", string user = "user") =>
        new(user + "@" + organizationId, role, organizationId, Clock.GetUtcNow());
}
