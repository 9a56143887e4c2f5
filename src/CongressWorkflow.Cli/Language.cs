using System.Globalization;

namespace CongressWorkflow.Cli;

/// <summary>
/// The words and number formats of the reports: Vietnamese by default, as the sources write them ("3.940/5.408 chi bộ
/// (72,86%)"), or English with --lang en ("3,940/5,408 branches (72.86%)").
/// </summary>
internal sealed class Language
{
    private static readonly Dictionary<string, (string Vi, string En)> Words = new(StringComparer.Ordinal)
    {
        ["as-of"] = ("tính đến", "as of"),
        ["level"] = ("Cấp", "Level"),
        ["held"] = ("Đã đại hội", "Held"),
        ["early"] = ("Sớm", "Early"),
        ["on-time"] = ("Đúng hạn", "On time"),
        ["late"] = ("Muộn", "Late"),
        ["overdue"] = ("Quá hạn", "Overdue"),
        ["not-yet-due"] = ("Chưa đến hạn", "Not yet due"),
        ["subordinate"] = ("Đơn vị trực thuộc", "Subordinate"),
        ["organisation"] = ("Tổ chức", "Organisation"),
        ["under"] = ("Trực thuộc", "Under"),
        ["deadline"] = ("Hạn", "Deadline"),
        ["days"] = ("ngày", "days"),
        ["in-progress"] = ("Đang tiến hành", "In progress"),
        ["overdue-count"] = ("quá hạn", "overdue"),
        ["now-named"] = ("nay", "now"),
        ["central"] = ("Trung ương", "Central"),
        ["bloc"] = ("Khối", "Bloc"),
        ["ministry"] = ("Cấp trên cơ sở", "Above grassroots"),
        ["grassroots"] = ("Cơ sở", "Grassroots"),
        ["branch"] = ("Chi bộ", "Branch"),
        ["units:central"] = ("đảng bộ", "committees"),
        ["units:bloc"] = ("đảng bộ khối", "bloc committees"),
        ["units:ministry"] = ("đảng bộ cấp trên cơ sở", "committees"),
        ["units:grassroots"] = ("tổ chức cơ sở đảng", "grassroots organisations"),
        ["units:branch"] = ("chi bộ", "branches"),
    };

    private Language(bool english)
    {
        English = english;
        Culture = CultureInfo.GetCultureInfo(english ? "en-US" : "vi-VN");
    }

    public static Language Vietnamese { get; } = new(false);

    public static Language EnglishLanguage { get; } = new(true);

    public bool English { get; }

    public CultureInfo Culture { get; }

    public static Language Of(string name) => name == "en" ? EnglishLanguage : Vietnamese;

    public string this[string key] => Words.TryGetValue(key, out var word) ? (English ? word.En : word.Vi) : key;

    /// <summary>"3.940/5.408 chi bộ (72,86%)": the sources' way of counting held congresses at a level.</summary>
    public string Count(int held, int total, decimal percent, string level) =>
        string.Format(Culture, "{0:N0}/{1:N0} {2} ({3:N2}%)", held, total, this["units:" + level], percent);

    public string Number(int value) => value.ToString("N0", Culture);

    /// <summary>A name as of the day reported, with today's after it when the organisation has been renamed since.</summary>
    public string Named(string name, string currentName) => currentName == name ? name : $"{name} ({this["now-named"]}: {currentName})";

    public string Completed(DateOnly on, int daysEarly, DateOnly? deadline) => English
        ? $"Completed {on:dd/MM/yyyy}: {(daysEarly >= 0 ? $"{daysEarly} days early" : $"{-daysEarly} days late")} against the deadline {deadline:dd/MM/yyyy}"
        : $"Hoàn thành {on:dd/MM/yyyy}: {(daysEarly >= 0 ? $"sớm {daysEarly} ngày" : $"muộn {-daysEarly} ngày")} so với hạn {deadline:dd/MM/yyyy}";

    public string SubordinatesDone(int completed, int total) => English
        ? $"{Number(completed)} / {Number(total)} subordinate committees have finished their branch congresses"
        : $"{Number(completed)} / {Number(total)} đảng bộ trực thuộc đã xong đại hội các chi bộ";
}
