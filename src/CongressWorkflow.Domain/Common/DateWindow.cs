using System.Globalization;

namespace CongressWorkflow.Domain.Common;

/// <summary>An inclusive range of dates, e.g. the window in which subordinate congresses must be held.</summary>
public sealed record DateWindow
{
    public DateWindow(DateOnly start, DateOnly end)
    {
        if (end < start)
        {
            throw new ArgumentException($"a window cannot end ({end:dd/MM/yyyy}) before it starts ({start:dd/MM/yyyy})");
        }

        Start = start;
        End = end;
    }

    public DateOnly Start { get; }

    public DateOnly End { get; }

    public bool Contains(DateOnly date) => date >= Start && date <= End;

    public bool Contains(DateWindow other) => other.Start >= Start && other.End <= End;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Start:dd/MM/yyyy}–{End:dd/MM/yyyy}");
}
