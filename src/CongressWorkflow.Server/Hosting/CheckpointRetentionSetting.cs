using CongressWorkflow.Integrity;

namespace CongressWorkflow.Server.Hosting;

/// <summary>The archive's retention as configured (Audit:CheckpointKeepAll, Audit:CheckpointKeepDaily), refused before anything starts when it makes no sense.</summary>
public static class CheckpointRetentionSetting
{
    public static CheckpointRetention From(IConfiguration configuration)
    {
        var keepAll = configuration.GetValue("Audit:CheckpointKeepAll", CheckpointRetention.Default.KeepAll);
        var keepDaily = configuration.GetValue("Audit:CheckpointKeepDaily", CheckpointRetention.Default.KeepDaily);
        return keepAll < TimeSpan.Zero || keepDaily < keepAll
            ? throw new SettingException(
                $"Audit:CheckpointKeepAll ({keepAll}) must not be negative, and Audit:CheckpointKeepDaily ({keepDaily}) must not be shorter than it")
            : new CheckpointRetention(keepAll, keepDaily);
    }
}
