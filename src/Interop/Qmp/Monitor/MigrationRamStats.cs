namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/migration.json <c>MigrationStats</c>: the <c>ram</c> member of <c>query-migrate</c>, in bytes.</summary>
public sealed record MigrationRamStats
{
    public long Transferred { get; init; }
    public long Remaining { get; init; }
    public long Total { get; init; }
    public long Duplicate { get; init; }
    public long Normal { get; init; }
    public long NormalBytes { get; init; }
    public long DirtyPagesRate { get; init; }
    public double Mbps { get; init; }
    public long DirtySyncCount { get; init; }
}
