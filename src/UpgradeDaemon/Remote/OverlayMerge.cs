using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// The temporary overlay a snapshot-carrying copy puts over an image (DESIGN.md 6), put on and merged back into it
/// live: <c>block-commit</c> of the active layer, READY, <c>block-job-complete</c> (the guest's disk is the image again,
/// with its internal snapshots), then the overlay's nodes and file go. The source's rollback and the destination's
/// finish are the same steps.
/// </summary>
internal static class OverlayMerge
{
    /// <summary>Puts a new overlay at <paramref name="overlayPath"/> over the disk's node (the guest writes there from now on).</summary>
    public static async Task PutOnAsync(QemuMonitor monitor, string qemuImg, CopiedDisk disk, string imagePath, string overlayPath,
        CancellationToken cancellationToken)
    {
        await Snapshots.QemuImg.CreateAsync(qemuImg, overlayPath, "qcow2", disk.VirtualSize, (imagePath, "qcow2"), cancellationToken).ConfigureAwait(false);
        await monitor.BlockdevAddQcow2OverlayAsync(disk.OverlayNodeName, disk.OverlayFileNodeName, overlayPath, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await monitor.BlockdevSnapshotAsync(disk.NodeName, disk.OverlayNodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges the overlay into the disk's node and removes it, nodes and file. Idempotent: an overlay not there is done.</summary>
    /// <exception cref="QmpExecuteException">QEMU refused a step, or the commit job failed (its error in the message).</exception>
    public static async Task MergeAsync(QemuMonitor monitor, CopiedDisk disk, string overlayPath, CancellationToken cancellationToken)
    {
        if (await HasNodeAsync(monitor, disk.OverlayNodeName, cancellationToken).ConfigureAwait(false))
        {
            using (var events = monitor.Listen(QemuEvents.JobStatusChange))
            {
                await monitor.BlockCommitAsync(disk.CommitJobId, disk.OverlayNodeName, disk.NodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
                var status = QemuEvents.JobStatusOf(await events.WaitForAsync(e => QemuEvents.JobIdOf(e) == disk.CommitJobId
                    && QemuEvents.JobStatusOf(e) is "ready" or "concluded", cancellationToken).ConfigureAwait(false));
                if (status == "ready")
                {
                    await monitor.BlockJobCompleteAsync(disk.CommitJobId, cancellationToken: cancellationToken).ConfigureAwait(false);
                    await events.WaitForAsync(e => QemuEvents.JobIdOf(e) == disk.CommitJobId && QemuEvents.JobStatusOf(e) == "concluded", cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            var error = (await monitor.QueryBlockJobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(j => j.Device == disk.CommitJobId)?.Error;
            await monitor.JobDismissAsync(disk.CommitJobId, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (error is not null)
                throw new QmpExecuteException("block-commit", "GenericError", $"merging {overlayPath} back into {disk.NodeName} failed: {error}");
            await monitor.BlockdevDelAsync(disk.OverlayNodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        if (await HasNodeAsync(monitor, disk.OverlayFileNodeName, cancellationToken).ConfigureAwait(false))
            await monitor.BlockdevDelAsync(disk.OverlayFileNodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        File.Delete(overlayPath);
    }

    private static async Task<bool> HasNodeAsync(QemuMonitor monitor, string nodeName, CancellationToken cancellationToken) =>
        (await monitor.QueryNamedBlockNodeNamesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Contains(nodeName);
}
