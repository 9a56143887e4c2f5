using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Campaigns;

/// <summary>A named round of congresses started by a directive, e.g. toward the 13th National Congress under 35-CT/TW.</summary>
[StoredAs("campaign.started")]
public sealed record CampaignStarted(
    string CampaignId, string Name, string Directive, int TermStart, int TermEnd, int BranchTermEnd, string StartedBy, DateTimeOffset StartedAt);

public sealed record StartCampaign(
    string CampaignId, string Name, DocumentReference Directive, int TermStart, int TermEnd, int BranchTermEnd, CommandContext Context);

public static class CampaignErrors
{
    public const string NotStarted = "campaign-not-started";
}

public sealed record Campaign(string Id, string Name, string Directive, int TermStart, int TermEnd, int BranchTermEnd)
{
    public static Campaign None { get; } = new(string.Empty, string.Empty, string.Empty, 0, 0, 0);

    public bool Exists => Id.Length > 0;

    public static string StreamId(string campaignId) => "campaign-" + campaignId;

    public static Decision Decide(StartCampaign c, Campaign state) =>
        state.Exists ? Decision.Reject("campaign-already-started", $"campaign {c.CampaignId} was already started under {state.Directive}")
        : string.IsNullOrWhiteSpace(c.Name) ? Decision.Reject("campaign-invalid-name", "a campaign needs a name")
        : c.Directive.Type != DocumentType.Directive
            ? Decision.Reject("campaign-wrong-document-type", $"a campaign is started by a directive (CT), not {c.Directive}")
        : c.TermEnd <= c.TermStart || c.BranchTermEnd <= c.TermStart
            ? Decision.Reject("campaign-invalid-term", $"terms must end after {c.TermStart}")
        : Decision.Accept(new CampaignStarted(c.CampaignId, c.Name.Trim(), c.Directive.ToString(), c.TermStart, c.TermEnd, c.BranchTermEnd,
            c.Context.UserId, c.Context.Now));

    public static Campaign Evolve(Campaign state, object @event) => @event switch
    {
        CampaignStarted e => new Campaign(e.CampaignId, e.Name, e.Directive, e.TermStart, e.TermEnd, e.BranchTermEnd),
        _ => throw new InvalidOperationException($"a campaign cannot apply {@event.GetType().Name}"),
    };
}
