using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Congresses;

/// <summary>A superior's plan changed the window it sets for its subordinates: from <see cref="Previous"/> (none before its first plan) to <see cref="Next"/>.</summary>
public sealed record SubordinateWindowChange(string SuperiorCongressId, string Document, DateOnly EffectiveOn, DateWindow? Previous, DateWindow Next);

/// <summary>
/// Deadlines cascade down the tree: when a superior's plan moves the window it sets for its subordinates, the plan of
/// each subordinate not yet held is derived again from it. A unit's own plan may tighten its superior's window but
/// not loosen it, so:
/// <list type="bullet">
/// <item>a bound the unit took over from the superior's previous window follows the new one (loosened or tightened);</item>
/// <item>a bound the unit had tightened on its own stays, unless the new window is tighter still;</item>
/// <item>a planned date already past when the change takes effect, or now outside the window, becomes the window's end
///   (the only date the plan now gives); the other deadlines move with the planned date and never pass the window's end;</item>
/// <item>the unit's own window for its subordinates ends by its planned date, and when it moves the cascade goes on below.</item>
/// </list>
/// The derived version is recorded in the unit's own stream as an amendment citing the superior's document.
/// </summary>
public static class PlanCascade
{
    /// <summary>What a congress's newest plan changed in the window for subordinates; null when it changed nothing there.</summary>
    public static SubordinateWindowChange? ChangeOf(Congress superior)
    {
        if (superior.Plans.Count == 0 || superior.Plans[^1].SubordinateWindow is not { } next)
        {
            return null;
        }

        var previous = superior.Plans.Count > 1 ? superior.Plans[^2].SubordinateWindow : null;
        return previous == next ? null : new SubordinateWindowChange(superior.CongressId, superior.Plans[^1].Document, superior.Plans[^1].EffectiveOn, previous, next);
    }

    /// <summary>The unit's plan derived again under the superior's new window; null when it stays as it is.</summary>
    public static PlanTerms? Follow(PlanTerms plan, SubordinateWindowChange change)
    {
        var (previous, next) = (change.Previous, change.Next);
        var start = previous is not null && plan.Window.Start == previous.Start ? next.Start : Max(plan.Window.Start, next.Start);
        var end = previous is not null && plan.Window.End == previous.End ? next.End : Min(plan.Window.End, next.End);
        var window = start <= end ? new DateWindow(start, end) : next;

        var planned = plan.PlannedDate < change.EffectiveOn || plan.PlannedDate > window.End ? window.End : Max(plan.PlannedDate, window.Start);
        var shift = planned.DayNumber - plan.PlannedDate.DayNumber;
        var deadlines = plan.Deadlines
            .Select(d => d with { Due = d.Due == plan.Window.End ? window.End : Min(d.Due.AddDays(shift), window.End) })
            .ToList();
        var subordinates = plan.SubordinateWindow is { } own && own.End > planned
            ? new DateWindow(Min(own.Start, planned), planned)
            : plan.SubordinateWindow;

        var followed = new PlanTerms(change.Document, change.EffectiveOn, planned, window, subordinates, deadlines);
        return followed.PlannedDate == plan.PlannedDate && followed.Window == plan.Window && followed.SubordinateWindow == plan.SubordinateWindow
               && followed.Deadlines.SequenceEqual(plan.Deadlines)
            ? null
            : followed;
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;
}
