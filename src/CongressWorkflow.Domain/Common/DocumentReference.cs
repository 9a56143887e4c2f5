using System.Text;
using System.Text.RegularExpressions;

namespace CongressWorkflow.Domain.Common;

/// <summary>The kinds of party documents that appear in references (the part between "-" and "/").</summary>
public enum DocumentType
{
    /// <summary>CT: chỉ thị, directive.</summary>
    Directive,

    /// <summary>HD: hướng dẫn, guidance.</summary>
    Guidance,

    /// <summary>KH: kế hoạch, plan.</summary>
    Plan,

    /// <summary>CV: công văn, official letter.</summary>
    OfficialLetter,

    /// <summary>NQ: nghị quyết, resolution.</summary>
    Resolution,

    /// <summary>KL: kết luận, conclusion.</summary>
    Conclusion,

    /// <summary>QĐ: quyết định, decision.</summary>
    Decision,
}

/// <summary>A party document reference of the form number-TYPE/ISSUER, e.g. 35-CT/TW, 681-KH/ĐUB, 09-HD/BTCĐUK.</summary>
public sealed partial record DocumentReference
{
    private static readonly Dictionary<string, DocumentType> Codes = new(StringComparer.Ordinal)
    {
        ["CT"] = DocumentType.Directive,
        ["HD"] = DocumentType.Guidance,
        ["KH"] = DocumentType.Plan,
        ["CV"] = DocumentType.OfficialLetter,
        ["NQ"] = DocumentType.Resolution,
        ["KL"] = DocumentType.Conclusion,
        ["QĐ"] = DocumentType.Decision,
    };

    private DocumentReference(string number, DocumentType type, string issuer)
    {
        Number = number;
        Type = type;
        Issuer = issuer;
    }

    /// <summary>The number as written, leading zeros kept (09-HD/BTCĐUK).</summary>
    public string Number { get; }

    public DocumentType Type { get; }

    /// <summary>The issuing body's abbreviation: TW, ĐUK, ĐUB, ĐU, BTCĐUK…</summary>
    public string Issuer { get; }

    public string TypeCode => Codes.First(c => c.Value == Type).Key;

    public static DocumentReference Parse(string text) => TryParse(text, out var reference, out var error)
        ? reference
        : throw new FormatException(error);

    public static bool TryParse(string? text, out DocumentReference reference, out string error)
    {
        reference = null!;
        var normalized = (text ?? string.Empty).Trim().Normalize(NormalizationForm.FormC);
        var match = Pattern().Match(normalized);
        if (!match.Success)
        {
            error = $"'{text}' is not a document reference of the form number-TYPE/ISSUER, e.g. 35-CT/TW or 681-KH/ĐUB";
            return false;
        }

        if (!Codes.TryGetValue(match.Groups["type"].Value, out var type))
        {
            error = $"'{match.Groups["type"].Value}' in '{text}' is not a document type; use one of {string.Join(", ", Codes.Keys)}";
            return false;
        }

        reference = new DocumentReference(match.Groups["number"].Value, type, match.Groups["issuer"].Value);
        error = string.Empty;
        return true;
    }

    public override string ToString() => $"{Number}-{TypeCode}/{Issuer}";

    [GeneratedRegex(@"^(?<number>\d{1,5})-(?<type>\p{Lu}{2})/(?<issuer>\p{Lu}{1,12})$")]
    private static partial Regex Pattern();
}
