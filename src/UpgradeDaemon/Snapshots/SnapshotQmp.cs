using System.Text.Json;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>
/// The QMP calls snapshots need (qapi/migration.json snapshot-save/-load/-delete jobs, qapi/block-core.json internal
/// snapshots), kept here as small calls on the raw client so a typed monitor layer can take them over unchanged.
/// </summary>
internal static class SnapshotQmp
{
    /// <summary>
    /// snapshot-save/-load stream the VM state through the migration code, which honours x-ignore-shared: left on from a
    /// migration into this QEMU, a shared-RAM guest's memory would be neither saved nor restored.
    /// </summary>
    public static Task SaveRamWithVmStateAsync(QmpClient qmp, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate-set-capabilities", new Dictionary<string, object>
        {
            ["capabilities"] = new object[] { new Dictionary<string, object> { ["capability"] = "x-ignore-shared", ["state"] = false } },
        }, cancellationToken);

    public static Task SaveAsync(QmpClient qmp, string tag, string vmStateNode, IReadOnlyList<string> nodes, CancellationToken cancellationToken) =>
        RunJobAsync(qmp, "snapshot-save", new Dictionary<string, object> { ["tag"] = tag, ["vmstate"] = vmStateNode, ["devices"] = nodes }, cancellationToken);

    public static Task LoadAsync(QmpClient qmp, string tag, string vmStateNode, IReadOnlyList<string> nodes, CancellationToken cancellationToken) =>
        RunJobAsync(qmp, "snapshot-load", new Dictionary<string, object> { ["tag"] = tag, ["vmstate"] = vmStateNode, ["devices"] = nodes }, cancellationToken);

    public static Task DeleteAsync(QmpClient qmp, string tag, IReadOnlyList<string> nodes, CancellationToken cancellationToken) =>
        RunJobAsync(qmp, "snapshot-delete", new Dictionary<string, object> { ["tag"] = tag, ["devices"] = nodes }, cancellationToken);

    /// <summary>Disk-only: one transaction, so either every disk has the snapshot or none does.</summary>
    public static Task CreateInternalAsync(QmpClient qmp, string name, IReadOnlyList<string> nodes, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("transaction", new Dictionary<string, object>
        {
            ["actions"] = nodes.Select(node => new Dictionary<string, object>
            {
                ["type"] = "blockdev-snapshot-internal-sync",
                ["data"] = new Dictionary<string, object> { ["device"] = node, ["name"] = name },
            }).ToArray(),
        }, cancellationToken);

    /// <summary>
    /// Starts a job, waits for it to conclude (JOB_STATUS_CHANGE, subscribed before the start), reads its error from
    /// query-jobs and dismisses it, so no concluded job is left behind in QEMU.
    /// </summary>
    private static async Task RunJobAsync(QmpClient qmp, string command, Dictionary<string, object> arguments, CancellationToken cancellationToken)
    {
        var jobId = $"localmigrate-{command}-{Guid.NewGuid():N}"[..40];
        arguments["job-id"] = jobId;
        using var events = qmp.Listen("JOB_STATUS_CHANGE");
        await qmp.ExecuteAsync(command, arguments, cancellationToken).ConfigureAwait(false);
        try
        {
            await events.WaitForAsync(e => IdOf(e.Data) == jobId && StatusOf(e.Data) == "concluded", cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            throw new SnapshotException($"QEMU's {command} (job {jobId}) did not conclude in time; it may still run in QEMU (see query-jobs)", e);
        }
        string? error = null;
        var jobs = await qmp.ExecuteAsync("query-jobs", null, cancellationToken).ConfigureAwait(false);
        foreach (var job in jobs.EnumerateArray())
        {
            if (job.TryGetProperty("id", out var id) && id.GetString() == jobId && job.TryGetProperty("error", out var message))
                error = message.GetString();
        }
        await qmp.ExecuteAsync("job-dismiss", new Dictionary<string, object> { ["id"] = jobId }, cancellationToken).ConfigureAwait(false);
        if (error is not null)
            throw new SnapshotException($"QEMU's {command} failed: {error}");
    }

    private static string? IdOf(JsonElement data) => data.TryGetProperty("id", out var id) ? id.GetString() : null;

    private static string? StatusOf(JsonElement data) => data.TryGetProperty("status", out var status) ? status.GetString() : null;
}
