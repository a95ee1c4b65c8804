using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>One QEMU process of a domain, with its QMP connection. Two exist per domain during a migration.</summary>
public sealed class DomainInstance : IAsyncDisposable
{
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(10);

    public DomainInstance(DomainDefinition definition, string instanceId, InstancePaths paths, InstanceRecord record,
        ProcessIdentity process, QmpClient qmp, ProcessExitWatcher? exit)
    {
        Definition = definition;
        InstanceId = instanceId;
        Paths = paths;
        Record = record;
        Process = process;
        Qmp = qmp;
        Exit = exit;
    }

    public DomainDefinition Definition { get; }
    public string InstanceId { get; }
    public InstancePaths Paths { get; }
    public InstanceRecord Record { get; private set; }
    public ProcessIdentity Process { get; }
    public QmpClient Qmp { get; }
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

    /// <returns>QEMU's run state, e.g. running, paused, postmigrate, inmigrate (qapi/run-state.json).</returns>
    public async Task<string> QueryStatusAsync(CancellationToken cancellationToken)
    {
        var status = await Qmp.ExecuteAsync("query-status", null, cancellationToken).ConfigureAwait(false);
        return status.GetProperty("status").GetString() ?? "unknown";
    }

    /// <summary>Asks QEMU to quit and waits for the process to end; kills it when it does not.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken = default)
    {
        ExitExpected = true;
        try
        {
            await Qmp.ExecuteAsync("quit", null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpDisconnectedException or QmpExecuteException or IOException)
        {
            // The process may already be gone, or close the socket before answering quit.
        }
        if (!await WaitForExitAsync(QuitTimeout).ConfigureAwait(false))
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
