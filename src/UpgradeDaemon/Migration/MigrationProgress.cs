namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// One reading of query-migrate on the source. Remaining is what QEMU says, not a running minimum: between passes it
/// grows again when the guest dirtied more than was sent, and the job shows that.
/// </summary>
/// <param name="DirtyRate">Bytes per second the guest dirties (dirty-pages-rate times the page size).</param>
/// <param name="Passes">dirty-sync-count: 1 during the first full copy.</param>
/// <param name="ExpectedDowntimeMs">QEMU's estimate of the pause if it switched now.</param>
public sealed record MigrationProgress(
    long Total, long Remaining, long Transferred, long Rate, long DirtyRate, long Passes, long ExpectedDowntimeMs, int CpuThrottlePercent)
{
    public static MigrationProgress None { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);
}
