using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

public sealed class every_event_has_a_versioned_schema(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    private static readonly string SchemaFolder = Path.Combine(AppContext.BaseDirectory, "schemas", "events");

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void the_committed_schemas_match_the_event_records()
    {
        var generated = EventSchemas.Generate();
        var committed = Directory.GetFiles(SchemaFolder).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);

        Assert.Equal(generated.Keys.Order(), committed.Keys.Order());
        foreach (var (name, content) in generated)
        {
            Assert.True(content == committed[name], $"schemas/events/{name} is out of date: run ops/schemas and review the change");
        }
    }

    [Fact]
    public async Task every_event_the_domain_produces_validates_against_its_schema()
    {
        await RunEveryKindOfStepAsync();

        var stored = new List<(string Type, int Version, string Json)>();
        await using (var command = db.DataSource.CreateCommand("SELECT event_type, schema_version, data::text FROM event_store.events ORDER BY global_position"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2)));
            }
        }

        foreach (var (type, version, json) in stored)
        {
            var schema = SchemaFiles.Load(Path.Combine("events", $"{type}.v{version}.schema.json"));
            Assert.True(SchemaFiles.Validate(schema, json) is { Count: 0 }, $"{type} v{version} does not fit its schema: {json}");
        }

        Assert.Equal(DomainEventTypes.All.Select(t => t.StoredAs.Name).Order(), stored.Select(s => s.Type).Distinct().Order());
    }

    [Fact]
    public void a_schema_rejects_data_of_the_wrong_shape()
    {
        var schema = SchemaFiles.Load(Path.Combine("events", "congress.convened.v1.schema.json"));

        Assert.NotEmpty(SchemaFiles.Validate(schema, """{"congressId":"c","convenedOn":"28/05/2020"}"""));
        Assert.NotEmpty(SchemaFiles.Validate(SchemaFiles.Load(Path.Combine("events", "congress.subcommittee-formed.v1.schema.json")),
            """{"congressId":"c","kind":"Documents","head":"A","members":3,"formedOn":"2020-01-01"}"""));
    }

    /// <summary>A campaign in which every kind of event happens at least once.</summary>
    private async Task RunEveryKindOfStepAsync()
    {
        await BuildTreeAsync(db);
        await PlanAllAsync(db);
        MoveClockTo(db, D(2020, 1, 20));
        await db.Congresses.HandleAsync(new AmendPlan(CongressOf(Branch2), Doc("02-KH/CB"), D(2020, 1, 20), D(2020, 3, 5),
            new(D(2020, 1, 16), D(2020, 5, 3)), null, [], null, db.As(Branch2)));
        await PrepareAndSubmitAsync(db, Branch1);
        await db.Congresses.HandleAsync(new ReturnSubmission(CongressOf(Branch1), "Bổ sung", db.As(Centre, "standing-committee")));
        await db.Congresses.HandleAsync(new SubmitToSuperior(CongressOf(Branch1), db.As(Branch1)));
        await Approve(db, Branch1, Centre, "15-QĐ/ĐU");
        await db.Congresses.HandleAsync(new ScheduleCongress(CongressOf(Branch1), new(D(2020, 2, 10), D(2020, 2, 10)), db.As(Branch1)));
        await db.Congresses.HandleAsync(new PostponeCongress(CongressOf(Branch1), "COVID-19", db.As(Branch1)));
        await db.Congresses.HandleAsync(new RescheduleCongress(CongressOf(Branch1), new(D(2020, 2, 20), D(2020, 2, 20)), "an toàn", db.As(Branch1)));
        MoveClockTo(db, D(2020, 2, 20));
        await db.Congresses.HandleAsync(Convene(db, Branch1, D(2020, 2, 20)));
        await db.Congresses.HandleAsync(new RecordElections(CongressOf(Branch1), new ElectionResults(5, 3, "Nguyễn Văn A", 1, 0, null, 3, 1), db.As(Branch1)));
        await db.Congresses.HandleAsync(new RecogniseResults(CongressOf(Branch1), Doc("30-QĐ/ĐU"), db.As(Centre, "standing-committee")));
        await db.Congresses.HandleAsync(new IssueResolution(CongressOf(Branch1), Doc("01-NQ/CB"), db.As(Branch1)));
        await db.Congresses.HandleAsync(new AdoptActionProgramme(CongressOf(Branch1), "Chương trình hành động nhiệm kỳ 2020–2022", db.As(Branch1)));
        await db.Congresses.HandleAsync(new DisseminateResolution(CongressOf(Branch1), 1, D(2020, 3, 1), db.As(Branch1)));
        await db.Congresses.HandleAsync(new GrantBottomUpExemption(CongressOf(Centre), Doc("748-CV/ĐUB"), "đại hội điểm", db.As(Ministry, "standing-committee")));
        await db.Organizations.RegisterAsync("chi-bo-tam", "Chi bộ tạm", OrganizationLevel.Branch, null, Centre, db.As(Central));
        await db.Organizations.RenameAsync("chi-bo-tam", "Chi bộ tạm thời", db.As(Central));
        await db.Congresses.HandleAsync(Plan(db, "chi-bo-tam", "05-KH/CB", D(2020, 4, 1), new(D(2020, 3, 1), D(2020, 4, 30)), null));
        await db.Organizations.MoveAsync("chi-bo-tam", Ministry, db.As(Central));
        await db.Organizations.DissolveAsync("chi-bo-tam", "giải thể", db.As(Central));
        await db.Organizations.SetContactsAsync(Centre, [new Contact(Roles.Secretariat, "vanphong@centre.example", "Văn phòng", "vi")], db.As(Central));
        await db.Policies.SetAsync(Campaign, DeadlinePolicy.Default with { QuietWeekdays = [DayOfWeek.Sunday] }, "26-HD/TW", db.As(Central));
        var webhook = await db.Subscriptions.CreateAsync(DeliveryChannel.Webhook, Ministry, "http://127.0.0.1:9/hook", db.As(Central));
        await db.Subscriptions.RemoveAsync(webhook.SubscriptionId, db.As(Central));
        MoveClockTo(db, D(2020, 9, 1));
        await db.Sweep.RunAsync();
    }
}
