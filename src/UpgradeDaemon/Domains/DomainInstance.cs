using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>One QEMU process of a domain, with its QMP connection. Two exist per domain during a migration.</summary>
public sealed class DomainInstance : IAsyncDisposable
{
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long <see cref="DestroyAsync"/> lets QEMU end on SIGTERM (closing its files cleanly) before SIGKILL.</summary>
    public static readonly TimeSpan TerminateGrace = TimeSpan.FromSeconds(2);

    public DomainInstance(DomainDefinition definition, string instanceId, InstancePaths paths, InstanceRecord record,
        ProcessIdentity process, QmpClient qmp, ProcessExitWatcher? exit)
    {
        Definition = definition;
        InstanceId = instanceId;
        Paths = paths;
        Record = record;
        Process = process;
        Qmp = qmp;
        Monitor = new QemuMonitor(qmp);
        Exit = exit;
    }

    public DomainDefinition Definition { get; }
    public string InstanceId { get; }
    public InstancePaths Paths { get; }
    public InstanceRecord Record { get; private set; }
    public ProcessIdentity Process { get; }
    /// <summary>The QMP transport: events, greeting, disconnect. Commands go through <see cref="Monitor"/>.</summary>
    public QmpClient Qmp { get; }

    /// <summary>Every QMP command to this QEMU, typed, each with a deadline.</summary>
    public QemuMonitor Monitor { get; }
    public ProcessExitWatcher? Exit { get; }
    public int Pid => Process.Pid;
    public string Binary => Record.Binary;
    public string QemuVersion => Record.QemuVersion ?? Qmp.Greeting.Version.ToString();

    /// <summary>Version and build, e.g. "7.2.0 (Debian 1:7.2+dfsg-7+deb12u18+b3)".</summary>
    public string QemuPackageVersion => string.IsNullOrEmpty(Record.QemuPackage) ? QemuVersion : $"{QemuVersion} ({Record.QemuPackage})";

    /// <summary>Set before the daemon itself ends the process, so an exit is not mistaken for a crash.</summary>
    public bool ExitExpected { get; private set; }

    /// <summary>Set when the daemon lets go of a live QEMU (daemon shutdown): the process runs on, unwatched.</summary>
    public bool Detached { get; private set; }

    /// <summary>Closes QMP and the exit watch but leaves the process running, for the next daemon to adopt.</summary>
    public async Task DetachAsync()
    {
        Detached = true;
        await DisposeAsync().ConfigureAwait(false);
    }

    public bool HasExited => Exit?.HasExited ?? !ProcFs.IsAlive(Process);

    public void SaveRecord(InstanceRecord record)
    {
        InstanceRecordJson.Write(Paths.InstanceFile, record);
        Record = record;
    }

    /// <summary>Asks QEMU to quit and waits for the process to end; kills it when it does not.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken = default)
    {
        ExitExpected = true;
        try
        {
            await Monitor.QuitAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpDisconnectedException or QmpExecuteException or QmpTimeoutException or IOException)
        {
            // The process may already be gone, or close the socket before answering quit, or be stuck: the wait
            // below and the kill after it settle all three.
        }
        if (!await WaitForExitAsync(QuitTimeout).ConfigureAwait(false))
            await KillAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Ends QEMU without asking it over QMP, so it works on a QEMU that is stuck or stopped (SIGSTOP): SIGTERM,
    /// which QEMU handles like quit, then SIGKILL after <see cref="TerminateGrace"/> (libvirt's
    /// virProcessKillPainfully). SIGKILL ends even a stopped process.
    /// </summary>
    public async Task DestroyAsync()
    {
        ExitExpected = true;
        if (Signals.Terminate(Process) && await WaitForExitAsync(TerminateGrace).ConfigureAwait(false))
            return;
        await KillAsync().ConfigureAwait(false);
    }

    public async Task KillAsync()
    {
        ExitExpected = true;
        Signals.Kill(Process);
        await WaitForExitAsync(QuitTimeout).ConfigureAwait(false);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (Exit is not null)
            return await Exit.WaitAsync(timeout).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + timeout;
        while (ProcFs.IsAlive(Process))
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(20).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Removes the runtime dir; only once the process is gone.</summary>
    public void RemoveRuntimeDirectory()
    {
        try
        {
            Directory.Delete(Paths.Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Qmp.DisposeAsync().ConfigureAwait(false);
        Exit?.Dispose();
    }
}
