namespace CongressWorkflow.Integrity;

/// <summary>Where the hash chain of a stream breaks, and why.</summary>
public sealed record IntegrityViolation(string StreamId, long StreamVersion, long? GlobalPosition, string Reason);
