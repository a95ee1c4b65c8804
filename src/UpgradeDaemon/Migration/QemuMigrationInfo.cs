namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>QMP query-migrate (qapi/migration.json MigrationInfo): the fields the daemon uses, kebab-case on the wire.</summary>
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
