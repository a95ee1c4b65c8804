namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The QMP migration capabilities both sides set (qapi/migration.json MigrationCapability).</summary>
internal static class MigrationCapabilities
{
    /// <summary>events: MIGRATION events drive the job, no polling in the switch-over window.
    /// x-ignore-shared: RAM in a shared backend is mapped by the target, not sent.</summary>
    public static object[] For(bool ignoreShared) =>
    [
        new Dictionary<string, object> { ["capability"] = "events", ["state"] = true },
        new Dictionary<string, object> { ["capability"] = "x-ignore-shared", ["state"] = ignoreShared },
    ];

    /// <summary>MigrationStatus values after which nothing more happens.</summary>
    public static bool IsTerminal(string? status) => status is "completed" or "failed" or "cancelled";
}
