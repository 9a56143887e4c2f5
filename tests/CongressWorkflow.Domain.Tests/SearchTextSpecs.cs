using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Tests;

public sealed class search_text
{
    [Theory]
    [InlineData("Đảng bộ Sở Công Thương Thái Bình", "dang bo so cong thuong thai binh")]
    [InlineData("dang bo so cong thuong", "dang bo so cong thuong")]
    [InlineData("  Chi bộ   Phòng Tin học ", "chi bo phong tin hoc")]
    [InlineData("ĐẢNG ỦY KHỐI", "dang uy khoi")]
    [InlineData("Nghệ An – Hà Tĩnh", "nghe an – ha tinh")]
    public void vietnamese_folds_without_diacritics_and_case(string name, string folded) => Assert.Equal(folded, SearchText.Fold(name));

    [Fact]
    public void a_name_and_a_query_typed_without_marks_fold_alike_whatever_the_unicode_form()
    {
        var composed = "Công đoàn".Normalize(System.Text.NormalizationForm.FormC);
        var decomposed = "Công đoàn".Normalize(System.Text.NormalizationForm.FormD);

        Assert.Equal(SearchText.Fold(composed), SearchText.Fold(decomposed));
        Assert.Contains(SearchText.Fold("cong doan"), SearchText.Fold("Đảng bộ " + composed + " Công Thương"), StringComparison.Ordinal);
    }
}
