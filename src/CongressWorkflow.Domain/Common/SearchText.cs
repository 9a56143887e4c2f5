using System.Globalization;
using System.Text;

namespace CongressWorkflow.Domain.Common;

/// <summary>
/// Names folded for search, so Vietnamese matches with or without its diacritics and in any case: "Đảng bộ Sở Công
/// Thương" and "dang bo so cong thuong" fold alike. Marks are dropped after canonical decomposition, and đ (which does
/// not decompose) becomes d.
/// </summary>
public static class SearchText
{
    public static string Fold(string text)
    {
        var folded = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                space = folded.Length > 0;
                continue;
            }

            if (space)
            {
                folded.Append(' ');
                space = false;
            }

            folded.Append(c is 'đ' or 'Đ' ? 'd' : char.ToLowerInvariant(c));
        }

        return folded.ToString();
    }
}
