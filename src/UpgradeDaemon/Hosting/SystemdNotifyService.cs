using LocalMigrate.UpgradeDaemon.Domains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// What sd_notify(3) carries beyond the lifetime's READY=1 and STOPPING=1 (Microsoft.Extensions.Hosting.Systemd's
/// SystemdLifetime sends those): EXTEND_TIMEOUT_USEC while adoption runs, a STATUS line that counts VMs, and
/// WATCHDOG=1 at half the unit's WatchdogSec (the library sends no watchdog pings). Outside systemd (no
/// NOTIFY_SOCKET) the notifier is disabled and every call is a no-op, so the daemon also runs from a terminal.
/// </summary>
internal sealed class SystemdNotifyService(ISystemdNotifier notifier, DomainRegistry registry, TimeProvider time) : IHostedLifecycleService
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _watchdog;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Adoption and recovery may take a while on a host with many VMs: ask for time instead of being killed.
        Notify(SystemdNotifications.ExtendTimeout(TimeSpan.FromMinutes(2)));
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        registry.Changed += _ => Notify(SystemdNotifications.Status(StatusLine()));
        Notify(SystemdNotifications.Status(StatusLine()));
        if (SystemdNotifications.WatchdogInterval() is { } interval && notifier.IsEnabled)
            _watchdog = Task.Run(() => PingAsync(interval / 2, _stop.Token));
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_watchdog is not null)
            await _watchdog.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private void Notify(ServiceState state)
    {
        if (notifier.IsEnabled)
            notifier.Notify(state);
    }

    private string StatusLine()
    {
        var all = registry.List();
        return $"{all.Count(d => d.Active is not null)} of {all.Count} VMs running, {all.Count(d => d.Job is not null)} migrating";
    }

    private async Task PingAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            Notify(SystemdNotifications.Watchdog);
    }
}
