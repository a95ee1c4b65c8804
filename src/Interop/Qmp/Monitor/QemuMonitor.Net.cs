namespace LocalMigrate.Interop.Qmp.Monitor;

// Networking: qapi/net.json.
public sealed partial class QemuMonitor
{
    /// <summary>
    /// <c>announce-self</c>: every NIC sends gratuitous RARPs (and the virtio-net guest announce) so switches and bridges learn
    /// the guest's new port at once. The timings are QEMU's own defaults (qapi AnnounceParameters: 50 ms, then +100 ms per
    /// round, at most 550 ms, 5 rounds).
    /// </summary>
    public Task AnnounceSelfAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("announce-self", new { Initial = 50, Max = 550, Rounds = 5, Step = 100 }, timeout, cancellationToken);
}
