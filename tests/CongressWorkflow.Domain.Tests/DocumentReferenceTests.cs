using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Tests;

public sealed class document_references
{
    [Theory]
    [InlineData("35-CT/TW", "35", DocumentType.Directive, "TW")]
    [InlineData("26-HD/TW", "26", DocumentType.Guidance, "TW")]
    [InlineData("155-KH/ĐUK", "155", DocumentType.Plan, "ĐUK")]
    [InlineData("681-KH/ĐUB", "681", DocumentType.Plan, "ĐUB")]
    [InlineData("748-CV/ĐUB", "748", DocumentType.OfficialLetter, "ĐUB")]
    [InlineData("09-HD/BTCĐUK", "09", DocumentType.Guidance, "BTCĐUK")]
    [InlineData("04-NQ/TW", "04", DocumentType.Resolution, "TW")]
    [InlineData("55-KL/TW", "55", DocumentType.Conclusion, "TW")]
    [InlineData("120-QĐ/ĐUB", "120", DocumentType.Decision, "ĐUB")]
    [InlineData("  12-KH/ĐU ", "12", DocumentType.Plan, "ĐU")]
    public void parse_the_forms_the_sources_use(string text, string number, DocumentType type, string issuer)
    {
        var reference = DocumentReference.Parse(text);

        Assert.Equal(number, reference.Number);
        Assert.Equal(type, reference.Type);
        Assert.Equal(issuer, reference.Issuer);
        Assert.Equal(text.Trim(), reference.ToString());
    }

    [Fact]
    public void decomposed_unicode_is_normalised_to_nfc()
    {
        var decomposed = "681-KH/ĐUB".Normalize(System.Text.NormalizationForm.FormD);

        Assert.Equal(DocumentReference.Parse("681-KH/ĐUB"), DocumentReference.Parse(decomposed));
    }

    [Theory]
    [InlineData("", "number-TYPE/ISSUER")]
    [InlineData("35/CT/TW", "number-TYPE/ISSUER")]
    [InlineData("35-XX/TW", "not a document type")]
    [InlineData("35-ct/tw", "number-TYPE/ISSUER")]
    [InlineData("-CT/TW", "number-TYPE/ISSUER")]
    [InlineData("35-CT/", "number-TYPE/ISSUER")]
    public void anything_else_is_a_clear_error(string text, string expected)
    {
        Assert.False(DocumentReference.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => DocumentReference.Parse(text));
    }
}
