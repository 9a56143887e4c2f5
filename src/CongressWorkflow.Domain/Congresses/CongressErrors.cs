namespace CongressWorkflow.Domain.Congresses;

/// <summary>Stable codes of the congress rules.</summary>
public static class CongressErrors
{
    public const string AlreadyPlanned = "congress-already-planned";
    public const string NotPlanned = "congress-not-planned";
    public const string WrongStage = "congress-wrong-stage";
    public const string WindowOutsideSuperior = "congress-window-outside-superior";
    public const string PlannedDateOutsideWindow = "congress-planned-date-outside-window";
    public const string SubordinateWindowAfterCongress = "congress-subordinate-window-after-congress";
    public const string WrongDocumentType = "congress-wrong-document-type";
    public const string SameDocument = "congress-amendment-same-document";
    public const string InvalidCount = "congress-invalid-count";
    public const string NotEnoughCandidates = "congress-not-enough-candidates";
    public const string IncompletePreparation = "congress-incomplete-preparation";
    public const string NotDirectSuperior = "congress-not-direct-superior";
    public const string NotApproved = "congress-not-approved";
    public const string SubordinatesIncomplete = "congress-subordinates-incomplete";
    public const string NotScheduled = "congress-not-scheduled";
    public const string NotPostponed = "congress-not-postponed";
    public const string Postponed = "congress-postponed";
    public const string InconsistentElection = "congress-inconsistent-election";
    public const string ReasonRequired = "congress-reason-required";
    public const string DateOutOfOrder = "congress-date-out-of-order";
}
