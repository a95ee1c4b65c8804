using LocalMigrate.Contract;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// <see cref="IMigrationDestination"/> played by a peer daemon: each step is a Peer method call over the session. While
/// the stream flows the source calls Query every <see cref="HeartbeatInterval"/>, which keeps the destination's lease.
/// A Commit whose reply is lost is settled by asking again (<see cref="SettleCommitAsync"/>), over a new session
/// if the old one broke: the source must know whether the guest runs there before it may resume or quit.
/// </summary>
public sealed class RemoteDestination(PeerSession session, PeerSessionFactory sessions, MigrationOptions options, bool resume, string pkiDirectory)
    : IMigrationDestination, IAsyncDisposable
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long the source keeps asking a destination that did not answer Commit.</summary>
    public static readonly TimeSpan CommitSettleTimeout = TimeSpan.FromMinutes(3);

    private readonly CancellationTokenSource _heartbeatStop = new();
    private PeerSession _session = session;
    private Task _heartbeat = Task.CompletedTask;
    private byte[]? _pskKey;

    /// <summary>ssh: a per-migration PSK handed over through ssh; tls: the hosts' X.509 certificates; tcp: none.</summary>
    public StreamSecurity Security => Uri.Transport switch
    {
        PeerTransport.Ssh => StreamSecurity.Psk,
        PeerTransport.Tls => StreamSecurity.X509,
        _ => StreamSecurity.None,
    };

    public PeerUri Uri => _session.Uri;

    /// <summary>Hello: the protocol and the host facts, before anything is sent.</summary>
    public async Task<IReadOnlyDictionary<string, VariantValue>> HelloAsync()
    {
        var host = await Call(p => p.HelloAsync(new Dictionary<string, VariantValue>
        {
            [PeerContract.HostKeys.ProtocolVersion] = VariantValue.UInt32(PeerContract.ProtocolVersion),
            [PeerContract.HostKeys.HostName] = VariantValue.String(RemoteMigrationDst.HostName),
            [PeerContract.HostKeys.Architecture] = VariantValue.String(RemoteMigrationDst.Architecture),
        })).ConfigureAwait(false);
        var version = host.TryGetValue(PeerContract.HostKeys.ProtocolVersion, out var v) && v.Type == VariantValueType.UInt32 ? v.GetUInt32() : 0;
        if (version != PeerContract.ProtocolVersion)
            throw new MigrationException(MigrationPhase.Prepare,
                $"destination {Uri} speaks peer protocol {version}, this host {PeerContract.ProtocolVersion}: update the older daemon first");
        return host;
    }

    public async Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken)
    {
        await HelloAsync().ConfigureAwait(false);
        var definition = System.Text.Encoding.UTF8.GetString(DefinitionWriter.ToUtf8Json(request.Definition));
        var tuning = request.TargetTuning ?? MigrationTuning.MinimalTarget(false);
        var prepareOptions = new Dictionary<string, VariantValue>
        {
            [PeerContract.PrepareKeys.ListenHost] = VariantValue.String(Uri.Host),
            [PeerContract.PrepareKeys.Persistent] = VariantValue.Bool(options.DefinesOnDestination),
            [PeerContract.PrepareKeys.Resume] = VariantValue.Bool(resume),
            [PeerContract.PrepareKeys.Offline] = VariantValue.Bool(options.IsOffline),
            [PeerContract.PrepareKeys.StreamTls] = VariantValue.String(Security.ToString().ToLowerInvariant()),
            [PeerContract.PrepareKeys.Capabilities] = VariantValue.Array(tuning.Capabilities.Where(c => c.State)
                .Select(c => Interop.Qmp.QapiEnum.ToQapiString(c.Capability)).ToArray()),
        };
        if (tuning.Parameters.MultifdChannels is { } channels)
            prepareOptions[PeerContract.PrepareKeys.MultifdChannels] = VariantValue.UInt32((uint)channels);
        if (tuning.Parameters.MultifdCompression is { } compression)
            prepareOptions[PeerContract.PrepareKeys.MultifdCompression] = VariantValue.String(Interop.Qmp.QapiEnum.ToQapiString(compression));
        if (request.CopiedDisks.Count > 0)
        {
            prepareOptions[PeerContract.PrepareKeys.CopyDisks] = VariantValue.Array(StorageCopyPlan.DiskEntries(request.CopiedDisks));
            prepareOptions[PeerContract.PrepareKeys.CopyBackings] = VariantValue.Array(StorageCopyPlan.BackingEntries(request.CopiedDisks));
        }
        if (request.Snapshots.Count > 0)
            prepareOptions[PeerContract.PrepareKeys.Snapshots] = VariantValue.String(System.Text.Encoding.UTF8.GetString(Snapshots.SnapshotCatalog.ToUtf8Json(request.Snapshots)));
        if (Security == StreamSecurity.Psk)
        {
            // Made here, sent only through the ssh channel, written 0600 on both sides, gone with the instances' runtime dirs.
            _pskKey = Transport.MigrationPsk.CreateKey();
            prepareOptions[PeerContract.PrepareKeys.PskIdentity] = VariantValue.String(Transport.MigrationPsk.Username);
            prepareOptions[PeerContract.PrepareKeys.PskKey] = VariantValue.String(Convert.ToHexString(_pskKey));
        }
        var prepared = await Call(p => p.PrepareAsync(request.JobId, definition, prepareOptions).WaitAsync(cancellationToken)).ConfigureAwait(false);
        _heartbeat = HeartbeatAsync(request.JobId);
        var port = (int)prepared[PeerContract.PreparedKeys.Port].GetUInt32();
        var host = Uri.Host.Contains(':') ? $"[{Uri.Host}]" : Uri.Host;
        return new PrepareResult(prepared[PeerContract.PreparedKeys.InstanceId].GetString(), (int)prepared[PeerContract.PreparedKeys.Pid].GetUInt32(),
            $"tcp:{host}:{port}", prepared[PeerContract.PreparedKeys.QemuVersion].GetString(), port)
        {
            TargetSettings = new MigrationSideSettings(
                Strings(prepared, PeerContract.PreparedKeys.TargetCapabilities),
                Strings(prepared, PeerContract.PreparedKeys.TargetParameters).Select(p => p.Split('=', 2))
                    .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal)),
            NbdPort = prepared.TryGetValue(PeerContract.PreparedKeys.NbdPort, out var nbd) && nbd.Type == VariantValueType.UInt32 ? (int)nbd.GetUInt32() : 0,
            SnapshotProblems = Strings(prepared, PeerContract.PreparedKeys.SnapshotProblems),
        };
    }

    private static string[] Strings(Dictionary<string, VariantValue> values, string key) =>
        values.TryGetValue(key, out var v) && v.Type == VariantValueType.Array ? v.GetArray<string>() : [];

    /// <summary>The source's half of the stream's protection, before migrate: the PSK made in Prepare, or this host's x509 client end.</summary>
    public async Task SecureSourceStreamAsync(DomainInstance source, CancellationToken cancellationToken)
    {
        // A QEMU that arrived here by migration may still hold the credentials of that one.
        await Transport.QemuMigrationTls.RemoveAsync(source.Monitor, cancellationToken).ConfigureAwait(false);
        switch (Security)
        {
            case StreamSecurity.Psk:
                var directory = Path.Combine(source.Paths.Directory, RemoteMigrationDst.PskDirectoryName);
                Transport.MigrationPsk.WriteKeyFile(directory, _pskKey);
                await Transport.QemuMigrationTls.SrcPskAsync(source.Monitor, directory, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            case StreamSecurity.X509:
                await Transport.QemuMigrationTls.SrcX509Async(source.Monitor, pkiDirectory, Uri.Host, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// The destination watches its own target; what the source must notice is losing the destination: a cut link
    /// leaves the QEMU stream hanging in TCP retransmits for minutes, while ssh's keep-alives or the TLS socket
    /// end the control channel within seconds. Perform then cancels the stream, and the source keeps the guest.
    /// </summary>
    public Task WhenTargetExits(string jobId) => _session.Disconnected;

    /// <param name="resume">Ignored: the destination resumes the guest at Commit when the source ran it (Prepare's resume).</param>
    public async Task<FinishResult> FinishAsync(string jobId, bool resume, CancellationToken cancellationToken)
    {
        var (pid, version) = await Call(p => p.FinishAsync(jobId)).ConfigureAwait(false);
        return new FinishResult((int)pid, version, RunState.Paused);
    }

    public async Task<string?> VerifyTargetAsync(string jobId, bool guestRan, CancellationToken cancellationToken)
    {
        try
        {
            var problem = await Call(p => p.VerifyAsync(jobId, guestRan)).ConfigureAwait(false);
            return problem.Length == 0 ? null : problem;
        }
        catch (Exception e) when (e is DBusErrorReplyException or PeerUnreachableException or MigrationException)
        {
            return $"destination {Uri} did not confirm its target: {e.Message}";
        }
    }

    /// <exception cref="PeerCommitRefusedException">The destination did not take the guest: the source still holds it.</exception>
    /// <exception cref="MigrationException">Nobody knows yet whether it did: the source must stay paused.</exception>
    public async Task CommitAsync(string jobId)
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        try
        {
            await _session.Peer.CommitAsync(jobId).ConfigureAwait(false);
            return;
        }
        catch (DBusErrorReplyException e) when (e.ErrorName == BusContract.Errors.Refused)
        {
            throw new PeerCommitRefusedException($"destination {Uri} refused the commit: {e.Message}");
        }
        catch (Exception e) when (e is DBusErrorReplyException or DBusConnectionException or TimeoutException or IOException or ObjectDisposedException)
        {
            // The reply is lost, not the answer: the destination journaled what it did. Ask it.
        }
        await SettleCommitAsync(jobId).ConfigureAwait(false);
    }

    private async Task SettleCommitAsync(string jobId)
    {
        var deadline = DateTime.UtcNow + CommitSettleTimeout;
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (_session.Disconnected.IsCompleted)
                {
                    await _session.DisposeAsync().ConfigureAwait(false);
                    _session = await sessions.OpenAsync(Uri, CancellationToken.None).ConfigureAwait(false);
                }
                var state = await _session.Peer.QueryAsync(jobId).ConfigureAwait(false);
                switch (state)
                {
                    case PeerContract.IncomingStates.Committed:
                        return;
                    case PeerContract.IncomingStates.Prepared:
                        await _session.Peer.CommitAsync(jobId).ConfigureAwait(false);
                        return;
                    default:
                        throw new PeerCommitRefusedException($"destination {Uri} did not commit (it says {state})");
                }
            }
            catch (Exception e) when (e is not PeerCommitRefusedException)
            {
                last = e.Message;
            }
            await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        throw new MigrationException(MigrationPhase.Confirm,
            $"destination {Uri} did not answer whether it took the guest ({last}); the guest stays paused on this host, which must not " +
            "resume it while the destination may run it: check the destination, then stop one copy");
    }

    public async Task AbortAsync(string jobId)
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        try
        {
            await _session.Peer.AbortAsync(jobId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DBusConnectionException or TimeoutException or IOException or ObjectDisposedException)
        {
            // Unreachable: its target never ran and it drops it when its lease runs out.
            throw new PeerUnreachableException(Uri, $"abort not delivered ({e.Message}); the destination drops its paused target when its lease runs out");
        }
    }

    private async Task HeartbeatAsync(string jobId)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_heartbeatStop.Token).ConfigureAwait(false))
            {
                try
                {
                    await _session.Peer.QueryAsync(jobId).WaitAsync(_heartbeatStop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DBusErrorReplyException or DBusConnectionException or TimeoutException or IOException)
                {
                    // A missed beat is not a failure; a broken link shows in the stream and in the next call.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StopHeartbeatAsync()
    {
        await _heartbeatStop.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(false);
    }

    /// <summary>A peer call: a refusal keeps the destination's words; a broken link names the peer.</summary>
    private async Task<T> Call<T>(Func<Contract.Client.PeerClient, Task<T>> call)
    {
        try
        {
            return await call(_session.Peer).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException e)
        {
            throw new MigrationException(MigrationPhase.Prepare, e.Message);
        }
        catch (Exception e) when (e is DBusConnectionException or IOException or ObjectDisposedException)
        {
            throw new PeerUnreachableException(Uri, $"the control channel broke: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        _heartbeatStop.Dispose();
        await _session.DisposeAsync().ConfigureAwait(false);
    }
}
