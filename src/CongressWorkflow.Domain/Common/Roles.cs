namespace CongressWorkflow.Domain.Common;

/// <summary>The roles people act in, each scoped to their organisation's subtree; contacts are kept per role too.</summary>
public static class Roles
{
    /// <summary>Văn phòng cấp ủy: records its own organisation's congress steps.</summary>
    public const string Secretariat = "secretariat";

    /// <summary>Ban thường vụ / cấp ủy: decides on its direct subordinates and issues plans for its subtree.</summary>
    public const string Committee = "committee";

    public const string Monitor = "monitor";

    public const string Auditor = "auditor";

    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [Secretariat, Committee, Monitor, Auditor, Admin];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);
}
