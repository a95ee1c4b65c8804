using LocalMigrate.Interop.Qmp.Monitor;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Watches every active instance (through its pidfd, so it works for adopted processes too) and marks the
/// domain crashed, or shut off after a guest power-off, when QEMU ends without the daemon having asked.
/// </summary>
public sealed partial class InstanceMonitor
{
    private readonly DomainRegistry _registry;
    private readonly InstanceLauncher _launcher;
    private readonly ILogger<InstanceMonitor> _logger;
    private readonly HashSet<DomainInstance> _watched = [];

    public InstanceMonitor(DomainRegistry registry, InstanceLauncher launcher, ILogger<InstanceMonitor> logger)
    {
        _registry = registry;
        _launcher = launcher;
        _logger = logger;
        registry.Changed += OnChanged;
    }

    private void OnChanged(Domain domain)
    {
        var instance = domain.Active;
        if (instance is null)
            return;
        lock (_watched)
        {
            if (!_watched.Add(instance))
                return;
        }
        _ = WatchAsync(domain, instance);
    }

    private async Task WatchAsync(Domain domain, DomainInstance instance)
    {
        using var shutdowns = instance.Monitor.Listen(QemuEvents.Shutdown);
        var exited = instance.Exit?.Exited ?? instance.Qmp.Disconnected;
        await exited.ConfigureAwait(false);
        lock (_watched)
            _watched.Remove(instance);
        // A detached instance's watcher ends with the daemon, not with QEMU: double-check the process itself.
        if (instance.ExitExpected || instance.Detached || domain.Active != instance || Interop.Posix.ProcFs.IsAlive(instance.Process))
            return;
        var guestPoweredOff = false;
        try
        {
            using var drain = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            var e = await shutdowns.NextAsync(drain.Token).ConfigureAwait(false);
            guestPoweredOff = QemuEvents.IsGuestShutdown(e);
        }
        catch (Exception)
        {
            // No SHUTDOWN event: QEMU died (killed, crashed).
        }
        _registry.SetActive(domain, null, guestPoweredOff ? DomainState.Shutoff : DomainState.Crashed);
        instance.RemoveRuntimeDirectory();
        if (guestPoweredOff)
            _launcher.DeleteSharedMemoryFile(domain.Definition);
        await instance.DisposeAsync().ConfigureAwait(false);
        if (guestPoweredOff)
            LogPoweredOff(domain.Name, instance.Pid);
        else
            LogCrashed(domain.Name, instance.Pid, QemuLog.Tail(instance.Paths.QemuLog));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName}: guest powered off (pid {Pid})")]
    private partial void LogPoweredOff(string domainName, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName}: QEMU (pid {Pid}) ended unexpectedly; {QemuLog}")]
    private partial void LogCrashed(string domainName, int pid, string qemuLog);
}
