using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Hosting;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// sd_notify(3) for Type=notify: READY=1 once every service started (the bus name is held by then), a STATUS
/// line that counts VMs, WATCHDOG=1 at half the unit's WatchdogSec, STOPPING=1 on the way out. Outside systemd
/// (no NOTIFY_SOCKET) every call is a no-op, so the daemon also runs from a terminal.
/// </summary>
internal sealed class SystemdNotifyService(DomainRegistry registry) : IHostedLifecycleService
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _watchdog;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Adoption and recovery may take a while on a host with many VMs: ask for time instead of being killed.
        SystemdNotifier.ExtendTimeout(TimeSpan.FromMinutes(2));
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        SystemdNotifier.Ready();
        registry.Changed += _ => SystemdNotifier.Status(StatusLine());
        SystemdNotifier.Status(StatusLine());
        if (SystemdNotifier.WatchdogInterval() is { } interval)
            _watchdog = Task.Run(() => PingAsync(interval / 2, _stop.Token));
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        SystemdNotifier.Stopping();
        _stop.Cancel();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_watchdog is not null)
            await _watchdog.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private string StatusLine()
    {
        var all = registry.List();
        return $"{all.Count(d => d.Active is not null)} of {all.Count} VMs running, {all.Count(d => d.Job is not null)} migrating";
    }

    private static async Task PingAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            SystemdNotifier.Watchdog();
    }
}
