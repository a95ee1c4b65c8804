namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>MigrationStats of qapi/migration.json, the RAM part of query-migrate.</summary>
public sealed record QemuMigrationRam
{
    public long Transferred { get; init; }
    public long Remaining { get; init; }
    public long Total { get; init; }
    public double Mbps { get; init; }
}
