using System.Globalization;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>What a notification says, in Vietnamese (the default) and English.</summary>
public sealed record NotificationContent(string Subject, string Body);

/// <summary>The words of notifications: subject and body name the unit, the deadline, the plan in force and the days left or overdue.</summary>
public static class NotificationText
{
    private static readonly Dictionary<Milestone, (string Vi, string En)> Milestones = new()
    {
        [Milestone.SubcommitteesFormed] = ("Thành lập các tiểu ban phục vụ đại hội", "Form the congress subcommittees"),
        [Milestone.DraftsPrepared] = ("Hoàn thành dự thảo văn kiện", "Finish the draft documents"),
        [Milestone.CommentsCollected] = ("Lấy ý kiến góp ý dự thảo văn kiện", "Collect comments on the drafts"),
        [Milestone.PersonnelPlanPrepared] = ("Xây dựng đề án nhân sự", "Prepare the personnel plan"),
        [Milestone.SubmittedToSuperior] = ("Trình cấp trên văn kiện và đề án nhân sự", "Submit the documents and personnel plan to the superior"),
        [Milestone.SubmissionDecided] = ("Cấp trên cho ý kiến về hồ sơ đại hội", "Decide on the submitted documents and personnel plan"),
        [Milestone.CongressHeld] = ("Tổ chức đại hội", "Hold the congress"),
        [Milestone.NewDateSet] = ("Ấn định lại thời gian tổ chức đại hội", "Set a new date for the postponed congress"),
        [Milestone.ResultsRecognised] = ("Chuẩn y kết quả bầu cử", "Recognise the election results"),
        [Milestone.ResolutionDisseminated] = ("Quán triệt, triển khai nghị quyết đại hội", "Disseminate the congress resolution"),
    };

    private static readonly Dictionary<string, (string Vi, string En)> EventTitles = new(StringComparer.Ordinal)
    {
        ["approval-requested"] = ("Hồ sơ đại hội chờ cho ý kiến", "Congress documents await your decision"),
        ["submission-approved"] = ("Hồ sơ đại hội đã được phê duyệt", "Congress documents approved"),
        ["submission-returned"] = ("Hồ sơ đại hội được trả lại để bổ sung", "Congress documents returned for changes"),
        ["congress-postponed"] = ("Đại hội hoãn tổ chức", "Congress postponed"),
        ["congress-held-late"] = ("Đại hội tổ chức muộn so với kế hoạch", "Congress held later than planned"),
    };

    public static string MilestoneName(Milestone milestone, string language = "vi") =>
        language == "en" ? Milestones[milestone].En : Milestones[milestone].Vi;

    public static string StepName(NotificationStep step, string language = "vi") => (step, language) switch
    {
        (NotificationStep.Reminder, "en") => "Reminder",
        (NotificationStep.Overdue, "en") => "Overdue",
        (NotificationStep.Escalation, "en") => "Escalation",
        (NotificationStep.FurtherEscalation, "en") => "Further escalation",
        (NotificationStep.Reminder, _) => "Nhắc hạn",
        (NotificationStep.Overdue, _) => "Quá hạn",
        (NotificationStep.Escalation, _) => "Báo cáo cấp trên",
        _ => "Báo cáo cấp trên (lần 2)",
    };

    /// <summary>The title of an inbox item for an event notice (approval requested, returned, …), naming the unit.</summary>
    public static string EventTitle(string kind, string organizationId) =>
        $"{(EventTitles.TryGetValue(kind, out var t) ? t.Vi : kind)} · {organizationId}";

    /// <param name="daysLeft">Days from the day it is sent to the due date: negative when overdue.</param>
    public static NotificationContent Render(
        string language, NotificationStep step, Milestone milestone, string unitName, string? recipientName, DateOnly due, int daysLeft, string? planDocument,
        bool late)
    {
        var vi = language != "en";
        var when = vi
            ? daysLeft switch { > 0 => $"còn {daysLeft} ngày", 0 => "hạn là hôm nay", _ => $"quá hạn {-daysLeft} ngày" }
            : daysLeft switch { > 0 => $"{daysLeft} day(s) left", 0 => "due today", _ => $"{-daysLeft} day(s) overdue" };
        var dueText = due.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);
        var subject = $"[{StepName(step, language)}] {unitName}: {MilestoneName(milestone, language)} — {when} ({(vi ? "hạn" : "due")} {dueText})";
        var plan = planDocument is null
            ? (vi ? "theo quy định của đợt đại hội" : "under the campaign's rules")
            : (vi ? $"theo kế hoạch {planDocument}" : $"under plan {planDocument}");
        var lines = new List<string>
        {
            vi ? $"Kính gửi {recipientName ?? unitName}," : $"To {recipientName ?? unitName},",
            string.Empty,
            vi
                ? $"{unitName}: hạn \"{MilestoneName(milestone, language)}\" là ngày {dueText} {plan}; {when}."
                : $"{unitName}: \"{MilestoneName(milestone, language)}\" is due on {dueText} {plan}; {when}.",
        };
        if (step is NotificationStep.Escalation or NotificationStep.FurtherEscalation)
        {
            lines.Add(vi
                ? "Đề nghị đồng chí chỉ đạo đơn vị khắc phục và báo cáo tiến độ."
                : "Please direct the unit to catch up and report its progress.");
        }

        if (late)
        {
            lines.Add(vi ? "(Thông báo này được gửi muộn so với lịch nhắc.)" : "(This notice goes out later than its scheduled day.)");
        }

        lines.Add(string.Empty);
        lines.Add(vi ? "CongressWorkflow — hệ thống theo dõi đại hội đảng các cấp" : "CongressWorkflow — party congress cascade monitor");
        return new NotificationContent(subject, string.Join("\n", lines));
    }
}
