namespace CongressWorkflow.Server.Hosting;

/// <summary>A setting the server cannot run with, found before anything is started (the CLI's `up` says so and exits 2).</summary>
public sealed class SettingException(string message) : Exception(message);
