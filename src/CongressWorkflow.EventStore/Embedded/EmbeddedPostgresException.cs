namespace CongressWorkflow.EventStore.Embedded;

public sealed class EmbeddedPostgresException(string message) : Exception(message);
