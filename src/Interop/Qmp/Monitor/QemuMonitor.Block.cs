namespace LocalMigrate.Interop.Qmp.Monitor;

// Block layer: qapi/block-core.json, qapi/block-export.json, qapi/job.json. Storage copy of a remote migration
// (NBD export on the destination, mirror on the source) and the overlays that carry internal snapshots.
public sealed partial class QemuMonitor
{
    /// <summary><c>nbd-server-start</c> on a TCP address; port "0" is refused by QEMU (unlike migrate-incoming), so name one.</summary>
    /// <param name="tlsCreds">A tls-creds object id (the migration stream's), or null for plaintext.</param>
    /// <param name="tlsAuthz">An authz object id checking the client's DN (x509 only), or null.</param>
    public Task NbdServerStartAsync(string host, int port, string? tlsCreds, string? tlsAuthz, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("nbd-server-start", new
        {
            // SocketAddressLegacy here (the members under "data"), unlike blockdev-add's flat SocketAddress.
            Addr = new { Type = "inet", Data = new { Host = host, Port = port.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
            TlsCreds = tlsCreds,
            TlsAuthz = tlsAuthz,
        }, timeout, cancellationToken);

    /// <summary><c>nbd-server-stop</c>: also removes every NBD export still there.</summary>
    public Task NbdServerStopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("nbd-server-stop", null, timeout, cancellationToken);

    /// <summary><c>block-export-add</c> of type nbd: <paramref name="nodeName"/> served under the export name <paramref name="name"/>.</summary>
    public Task BlockExportAddNbdAsync(string id, string nodeName, string name, bool writable, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("block-export-add", new { Type = "nbd", Id = id, NodeName = nodeName, Name = name, Writable = writable }, timeout, cancellationToken);

    /// <summary><c>block-export-del</c>; QEMU refuses while a client is still connected, unless <paramref name="hard"/>.</summary>
    public Task BlockExportDelAsync(string id, bool hard = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("block-export-del", new { Id = id, Mode = hard ? "hard" : "safe" }, timeout, cancellationToken);

    /// <summary><c>blockdev-add</c> of an NBD client node: <paramref name="export"/> on host:port, with the stream's TLS credentials.</summary>
    /// <param name="tlsHostname">The name the server's x509 certificate must carry; null for PSK or plaintext.</param>
    public Task BlockdevAddNbdAsync(string nodeName, string host, int port, string export, string? tlsCreds, string? tlsHostname,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("blockdev-add", new
        {
            Driver = "nbd",
            NodeName = nodeName,
            Server = new { Type = "inet", Host = host, Port = port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            Export = export,
            TlsCreds = tlsCreds,
            TlsHostname = tlsHostname,
        }, timeout, cancellationToken);

    /// <summary><c>blockdev-add</c> of a file (protocol) node: the bytes of <paramref name="path"/> as they are, whatever format they hold.</summary>
    public Task BlockdevAddFileAsync(string nodeName, string path, bool readOnly = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("blockdev-add", new { Driver = "file", NodeName = nodeName, Filename = path, ReadOnly = readOnly }, timeout, cancellationToken);

    /// <summary><c>blockdev-add</c> of a qcow2 overlay (file node and format node) whose backing is attached later by blockdev-snapshot.</summary>
    public async Task BlockdevAddQcow2OverlayAsync(string nodeName, string fileNodeName, string path, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        await ExecuteAsync("blockdev-add", new { Driver = "file", NodeName = fileNodeName, Filename = path }, timeout, cancellationToken)
            .ConfigureAwait(false);
        // backing null: the overlay's header names the base, but blockdev-snapshot attaches the running node instead.
        await ExecuteAsync("blockdev-add", new Dictionary<string, object?>
        {
            ["driver"] = "qcow2", ["node-name"] = nodeName, ["file"] = fileNodeName, ["backing"] = null,
        }, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>blockdev-del</c>: the node must have no user left (a finished job, a deleted export).</summary>
    public Task BlockdevDelAsync(string nodeName, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("blockdev-del", new { NodeName = nodeName }, timeout, cancellationToken);

    /// <summary><c>blockdev-snapshot</c>: <paramref name="overlay"/> (added with no backing) goes on top of <paramref name="node"/>, which becomes its backing.</summary>
    public Task BlockdevSnapshotAsync(string node, string overlay, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("blockdev-snapshot", new { Node = node, Overlay = overlay }, timeout, cancellationToken);

    /// <summary>
    /// <c>blockdev-mirror</c>: copies <paramref name="device"/> into <paramref name="target"/> and then keeps every guest write
    /// mirrored; READY (BLOCK_JOB_READY) once both agree. A cancel when ready leaves the target a consistent copy.
    /// </summary>
    /// <param name="sync">full (everything the guest sees), top (only the top layer: the destination has the backing chain).</param>
    /// <param name="speed">Bytes per second at most; null: unlimited.</param>
    public Task BlockdevMirrorAsync(string jobId, string device, string target, MirrorSync sync, long? speed = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("blockdev-mirror", new
        {
            JobId = jobId, Device = device, Target = target, Sync = sync, Speed = speed,
            // The job ends in a state the daemon reads and dismisses itself, rather than vanishing with its error.
            AutoDismiss = false,
        }, timeout, cancellationToken);

    /// <summary>
    /// <c>block-commit</c> of the active layer <paramref name="device"/>'s top into its backing <paramref name="baseNode"/>:
    /// READY when merged, then <see cref="BlockJobCompleteAsync"/> makes the base the active layer again.
    /// </summary>
    public Task BlockCommitAsync(string jobId, string device, string baseNode, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("block-commit", new { JobId = jobId, Device = device, BaseNode = baseNode, AutoDismiss = false }, timeout, cancellationToken);

    /// <summary><c>block-job-cancel</c>: a READY mirror stops with the target consistent (no pivot); <paramref name="force"/> stops any job at once.</summary>
    public Task BlockJobCancelAsync(string jobId, bool force = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("block-job-cancel", new { Device = jobId, Force = force }, timeout, cancellationToken);

    /// <summary><c>block-job-complete</c>: a READY mirror or active commit pivots (the device moves to the target / base).</summary>
    public Task BlockJobCompleteAsync(string jobId, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("block-job-complete", new { Device = jobId }, timeout, cancellationToken);

    /// <summary><c>job-dismiss</c> of a concluded job (auto-dismiss off).</summary>
    public Task JobDismissAsync(string jobId, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("job-dismiss", new { Id = jobId }, timeout, cancellationToken);

    /// <summary><c>query-block-jobs</c>: every block job with its progress (offset of len) and readiness.</summary>
    public async Task<IReadOnlyList<BlockJobInfo>> QueryBlockJobsAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await ExecuteAsync<List<BlockJobInfo>>("query-block-jobs", null, timeout, cancellationToken).ConfigureAwait(false);

    /// <summary><c>query-named-block-nodes</c> (flat): the node names there are, to find a node left over by an interrupted job.</summary>
    public async Task<IReadOnlyList<string>> QueryNamedBlockNodeNamesAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var nodes = await ExecuteAsync<System.Text.Json.JsonElement>("query-named-block-nodes", new { Flat = true }, timeout, cancellationToken)
            .ConfigureAwait(false);
        return nodes.EnumerateArray().Select(n => n.TryGetProperty("node-name", out var name) ? name.GetString() ?? "" : "").ToList();
    }
}
