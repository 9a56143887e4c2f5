using System.Text.RegularExpressions;

namespace CongressWorkflow.Domain.Common;

/// <summary>
/// The one set of rules every value from outside meets before anything acts on it (the API, the import, tokens):
/// ids as the import's schema has them, bounded lengths, no control characters, no spreadsheet formulas in names.
/// </summary>
public static partial class EdgeRules
{
    public const int MaxNameLength = 300;
    public const int MaxTextLength = 4000;

    /// <summary>Lower-case ASCII letters, digits and hyphens, starting with a letter or digit, at most 100 (the import schema's pattern).</summary>
    public static bool IsId(string? value) => value is not null && IdPattern().IsMatch(value);

    /// <summary>
    /// What is wrong with a name (one line, at most 300, not a formula, nothing invisible), or null. An invisible format
    /// character (a zero-width space, a direction override) makes a name that looks like another's, or shows it in an
    /// order other than the one stored; Vietnamese names need none.
    /// </summary>
    public static string? NameProblem(string value) =>
        value.Length > MaxNameLength ? $"is longer than {MaxNameLength} characters"
        : value.Any(char.IsControl) ? "contains a control character"
        : value.Any(c => char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format) ? InvisibleCharacter
        : StartsLikeFormula(value) ? "starts with =, +, - or @, which a spreadsheet would run as a formula"
        : null;

    /// <summary>
    /// What is wrong with free text (line breaks and tabs allowed, other control characters not, nor the controls that
    /// reorder how text is shown: a comment would read differently from what was recorded), or null.
    /// </summary>
    public static string? TextProblem(string value, int maxLength = MaxTextLength) =>
        value.Length > maxLength ? $"is longer than {maxLength} characters"
        : value.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')) ? "contains a control character"
        : value.Any(IsDirectionControl) ? InvisibleCharacter
        : null;

    private const string InvisibleCharacter = "contains an invisible formatting character (zero-width or a text direction control)";

    /// <summary>The bidirectional marks, embeddings, overrides and isolates (Unicode's Bidi_Control).</summary>
    private static bool IsDirectionControl(char c) => c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    /// <summary>Days the product deals in: a congress term, its plans and reports, never year 1 or 9999.</summary>
    public static bool IsSaneDay(DateOnly day) => day.Year is >= 1900 and <= 2199;

    /// <summary>A refused value as a refusal quotes it: its first 40 characters, control characters shown as '?'.</summary>
    public static string Shorten(string value)
    {
        var printable = new string(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 40 ? printable + "…" : printable;
    }

    public static bool StartsLikeFormula(string value) => value.TrimStart() is { Length: > 0 } trimmed && trimmed[0] is '=' or '+' or '-' or '@';

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}$")]
    private static partial Regex IdPattern();
}
