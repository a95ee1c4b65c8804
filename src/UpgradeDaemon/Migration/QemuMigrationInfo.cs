namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>QMP query-migrate (qapi/migration.json MigrationInfo): the fields the daemon uses, kebab-case on the wire.</summary>
/// <remarks>Only MigrationRecovery still reads this string-typed form; once it calls QemuMonitor.QueryMigrateAsync
/// (<see cref="Interop.Qmp.Monitor.MigrationInfo"/>), delete this and <see cref="QemuMigrationRam"/>.</remarks>
public sealed record QemuMigrationInfo
{
    public string? Status { get; init; }
    public long? TotalTime { get; init; }
    public long? Downtime { get; init; }
    public long? ExpectedDowntime { get; init; }
    public long? SetupTime { get; init; }
    public QemuMigrationRam? Ram { get; init; }
    public string? ErrorDesc { get; init; }
}
