using System.Collections.Concurrent;
using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Asks a QEMU binary for its version and machine types by starting it with <c>-machine none</c> and querying
/// QMP. Cached per binary file (path, size, modification time): a package upgrade changes those and so
/// triggers a fresh probe.
/// </summary>
public sealed partial class QemuBinaryProbe(string scratchDirectory, ILogger<QemuBinaryProbe> logger)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(20);
    private readonly ConcurrentDictionary<(string Path, long Size, DateTime Modified), QemuBinaryInfo> _cache = new();

    /// <returns>The last probe of the binary as it is on disk now, or null when it was never probed (or changed since).</returns>
    public QemuBinaryInfo? TryGetCached(string binary)
    {
        var file = new FileInfo(binary);
        return file.Exists && _cache.TryGetValue((file.FullName, file.Length, file.LastWriteTimeUtc), out var info) ? info : null;
    }

    /// <exception cref="QemuBinaryException">The binary is missing, not executable or does not answer.</exception>
    public async Task<QemuBinaryInfo> ProbeAsync(string binary, CancellationToken cancellationToken)
    {
        var file = new FileInfo(binary);
        if (!file.Exists)
            throw new QemuBinaryException(binary, "no such file");
        if ((file.UnixFileMode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            throw new QemuBinaryException(binary, "not executable");
        var key = (file.FullName, file.Length, file.LastWriteTimeUtc);
        if (_cache.TryGetValue(key, out var cached))
            return cached;
        QemuBinaryInfo info;
        try
        {
            info = await RunProbeAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        }
        catch (QemuBinaryException e) when (e.InnerException is QmpProtocolException && !cancellationToken.IsCancellationRequested)
        {
            // Seen once in a suite run (a 10.0 probe whose first QMP message was not its greeting, cause unknown): one
            // fresh QEMU more, rather than failing a migration on a probe that a second look answers.
            LogProbeRetried(file.FullName, e.Message);
            info = await RunProbeAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        }
        _cache[key] = info;
        return info;
    }

    private async Task<QemuBinaryInfo> RunProbeAsync(string binary, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(scratchDirectory, $"probe.{Guid.NewGuid():N}"[..14]);
        Directory.CreateDirectory(directory);
        var socket = Path.Combine(directory, "qmp.sock");
        var log = Path.Combine(directory, "qemu.log");
        ProcessIdentity? process = null;
        try
        {
            int pid;
            try
            {
                pid = DetachedProcess.Spawn(binary,
                    ["-machine", "none", "-nodefaults", "-no-user-config", "-display", "none",
                     "-qmp", $"unix:{socket},server=on,wait=off"], log);
            }
            catch (IOException e)
            {
                throw new QemuBinaryException(binary, e.Message);
            }
            process = ProcFs.TryReadIdentity(pid);
            using var exit = ProcessExitWatcher.TryOpen(pid);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            var connect = QmpClient.ConnectAsync(socket, new QmpClientOptions { ConnectTimeout = ProbeTimeout }, timeout.Token);
            if (exit is not null && await Task.WhenAny(connect, exit.Exited).ConfigureAwait(false) == exit.Exited)
                throw new QemuBinaryException(binary, $"exited at start: {QemuLog.Tail(log)}");
            await using var qmp = await connect.ConfigureAwait(false);
            var monitor = new QemuMonitor(qmp);
            var machines = await monitor.QueryMachinesAsync(ProbeTimeout, timeout.Token).ConfigureAwait(false);
            var info = new QemuBinaryInfo(binary, qmp.Greeting.Version.ToString(), qmp.Greeting.Package.Trim(), machines);
            try
            {
                await monitor.QuitAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            }
            catch (QmpDisconnectedException)
            {
                // quit may close the socket before its reply arrives.
            }
            if (exit is not null)
                await exit.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            return info;
        }
        catch (Exception e) when (e is QmpProtocolException or OperationCanceledException or TimeoutException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new QemuBinaryException(binary, $"did not answer on QMP: {e.Message} {QemuLog.Tail(log)}", e);
        }
        finally
        {
            if (process is not null)
                Signals.Kill(process);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Probe of {Binary} failed once, probing again: {Reason}")]
    private partial void LogProbeRetried(string binary, string reason);
}
