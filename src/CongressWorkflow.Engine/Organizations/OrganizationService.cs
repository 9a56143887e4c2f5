using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;

namespace CongressWorkflow.Engine.Organizations;

/// <summary>Organisation commands: facts from the tree, the Decider, and the tree updated inline.</summary>
public sealed class OrganizationService(CommandPipeline pipeline, OrganizationTree tree)
{
    public static readonly AggregateDefinition<Organization> Aggregate = new("organization", Organization.None, OrganizationDecider.Evolve);

    public async Task<CommandResult> RegisterAsync(
        string organizationId, string name, OrganizationLevel level, Sector? sector, string? parentId, CommandContext context,
        CancellationToken cancellationToken = default)
    {
        return await ExecuteAsync("register-organization", organizationId, context, null, async (state, session) =>
        {
            await OrganizationTree.LockTreeAsync(session, exclusive: false);
            var parent = parentId is null ? null : await RequireParentAsync(session, parentId, cancellationToken);
            return OrganizationDecider.Decide(new RegisterOrganization(organizationId, name, level, sector, parent, context), state);
        }, cancellationToken);
    }

    public Task<CommandResult> RenameAsync(string organizationId, string newName, CommandContext context, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("rename-organization", organizationId, context, expectedVersion,
            (state, _) => Task.FromResult(OrganizationDecider.Decide(new RenameOrganization(organizationId, newName, context), state)), cancellationToken);

    public async Task<CommandResult> MoveAsync(string organizationId, string newParentId, CommandContext context, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        return await ExecuteAsync("move-organization", organizationId, context, expectedVersion, async (state, session) =>
        {
            await OrganizationTree.LockTreeAsync(session, exclusive: true);
            var parent = await RequireParentAsync(session, newParentId, cancellationToken);
            return OrganizationDecider.Decide(new MoveOrganization(organizationId, parent, context), state);
        }, cancellationToken,
        (session, _, metadata) => CongressService.FollowMoveAsync(pipeline.Store, session, organizationId, newParentId, context, metadata, cancellationToken));
    }

    public async Task<CommandResult> DissolveAsync(string organizationId, string reason, CommandContext context, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        return await ExecuteAsync("dissolve-organization", organizationId, context, expectedVersion, async (state, session) =>
        {
            await OrganizationTree.LockTreeAsync(session, exclusive: false);
            var children = await OrganizationTree.LockAndCountActiveChildrenAsync(session, organizationId, cancellationToken);
            return OrganizationDecider.Decide(new DissolveOrganization(organizationId, reason, children, context), state);
        }, cancellationToken);
    }

    public Task<CommandResult> SetContactsAsync(string organizationId, IReadOnlyList<Contact> contacts, CommandContext context, long? expectedVersion = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("set-contacts", organizationId, context, expectedVersion,
            (state, _) => Task.FromResult(OrganizationDecider.Decide(new SetContacts(organizationId, contacts, context), state)), cancellationToken);

    public async Task<IReadOnlyList<Contact>> ContactsAsync(string organizationId, CancellationToken cancellationToken = default) =>
        [.. (await tree.ContactsAsync([organizationId], cancellationToken))[organizationId]];

    /// <summary>Facts come through the command's session (under the locks they take), so they cannot change before it commits.</summary>
    private Task<CommandResult> ExecuteAsync(
        string command, string organizationId, CommandContext context, long? expectedVersion, Func<Organization, CommandSession, Task<Decision>> decide,
        CancellationToken cancellationToken, Func<CommandSession, Organization, EventStore.EventMetadata, Task>? afterAppend = null) =>
        pipeline.ExecuteAsync(command, Aggregate, Organization.StreamId(organizationId), context, expectedVersion,
            decide, OrganizationTree.ProjectAsync, cancellationToken: cancellationToken, afterAppend: afterAppend);

    private static async Task<ParentFacts> RequireParentAsync(CommandSession session, string parentId, CancellationToken cancellationToken) =>
        await OrganizationTree.ParentFactsAsync(session, parentId, cancellationToken)
            ?? throw new CommandRejectedException(new DomainError(OrganizationErrors.InvalidParent, $"there is no organisation '{parentId}'"));
}
