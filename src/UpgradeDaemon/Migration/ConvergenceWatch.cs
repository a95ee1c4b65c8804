using System.Globalization;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Decides when a migration does not converge: QEMU's expected downtime stayed above the downtime limit for
/// <see cref="MigrationOptions.ConvergePasses"/> passes in a row, or <see cref="MigrationOptions.ConvergeTimeout"/>
/// passed. Passes are QEMU's dirty-sync-count; the first (the full copy) does not count. Fed every progress reading.
/// </summary>
public sealed class ConvergenceWatch(int passes, long downtimeLimitMs, TimeSpan? timeout)
{
    private long _lastPass;
    private long _overLimit;

    /// <returns>null while the migration may still converge; otherwise why it does not.</returns>
    public string? Observe(MigrationProgress progress, TimeSpan elapsed)
    {
        if (progress.Passes > _lastPass)
        {
            if (progress.Passes > 1)
                _overLimit = progress.ExpectedDowntimeMs > downtimeLimitMs ? _overLimit + (progress.Passes - Math.Max(_lastPass, 1)) : 0;
            _lastPass = progress.Passes;
        }
        var state = string.Create(CultureInfo.InvariantCulture,
            $"pass {progress.Passes}, {MiB(progress.Remaining)} MiB left, expected downtime {progress.ExpectedDowntimeMs} ms, " +
            $"limit {downtimeLimitMs} ms, sending {MiB(progress.Rate)} MiB/s, guest dirtying {MiB(progress.DirtyRate)} MiB/s");
        if (_overLimit >= passes)
            return $"expected downtime above the limit for {_overLimit} passes in a row ({state})";
        if (timeout is { } limit && elapsed >= limit)
            return $"not completed within {limit.TotalSeconds:0} s ({state})";
        return null;
    }

    private static string MiB(long bytes) => (bytes / (double)(1 << 20)).ToString("0.0", CultureInfo.InvariantCulture);
}
