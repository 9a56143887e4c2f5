namespace CongressWorkflow.Embedded;

public sealed class EmbeddedPostgresException(string message) : Exception(message);
