using System.Threading.Channels;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Upgrade;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Serves org.localmigrate1: the Manager, one Domain object per domain (added and removed as domains come
/// and go, announced through the ObjectManager), one Job object per migration. The bus name is requested
/// last, so a client that finds the name finds every object. Engine changes reach the bus in order through
/// one channel: the engine never waits for the bus.
/// </summary>
internal sealed partial class ApiServer(DaemonArguments arguments, DaemonOptions options, DomainRegistry registry, DomainService domains,
    MigrationService migrations, UpgradePlanner upgrades, StaleDetector stale, InstanceLauncher launcher, IHostApplicationLifetime lifetime,
    ILogger<ApiServer> logger) : IHostedService
{
    private readonly Channel<Domain> _changes = Channel.CreateUnbounded<Domain>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, IAsyncDisposable> _domainObjects = new(StringComparer.Ordinal);
    private readonly CallerPolicy _policy = new(options);
    private JobObjects? _jobs;
    private BusConnection? _bus;
    private Task? _forwarder;
    private volatile bool _stopping;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var bus = await BusConnection.OpenAsync(BusAddress.Parse(arguments.Bus), cancellationToken).ConfigureAwait(false);
        _bus = bus;
        _jobs = new JobObjects(migrations, _policy);
        _jobs.Attach(bus);
        await bus.AddObjectManagerAsync(BusContract.ManagerPath).ConfigureAwait(false);
        await bus.AddObjectAsync(BusContract.ManagerPath, ManagerObject.Build(options, domains, migrations, upgrades, _policy, _jobs))
            .ConfigureAwait(false);
        registry.Changed += domain => _changes.Writer.TryWrite(domain);
        foreach (var domain in registry.List())
            await ExportDomainAsync(bus, domain).ConfigureAwait(false);
        _forwarder = Task.Run(() => ForwardChangesAsync(bus));
        await bus.RequestNameAsync(BusContract.ServiceName, cancellationToken).ConfigureAwait(false);
        LogServing(BusContract.ServiceName, bus.Address.ToString(), bus.UniqueName);
        // A daemon that lost its bus can serve nobody: exit (non-zero), so systemd restarts it; the VMs run on.
        _ = bus.Closed.ContinueWith(_ =>
        {
            if (!_stopping)
            {
                LogBusLost();
                Environment.ExitCode = 1;
                lifetime.StopApplication();
            }
        }, TaskScheduler.Default);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _changes.Writer.TryComplete();
        if (_forwarder is not null)
            await _forwarder.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        if (_bus is not null)
            await _bus.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ForwardChangesAsync(BusConnection bus)
    {
        await foreach (var domain in _changes.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var path = BusContract.DomainPath(domain.Name);
                var present = registry.Find(domain.Name) == domain;
                var exported = _domainObjects.ContainsKey(domain.Name);
                if (present && !exported)
                {
                    await ExportDomainAsync(bus, domain).ConfigureAwait(false);
                    await bus.EmitObjectAddedAsync(path).ConfigureAwait(false);
                }
                else if (!present && exported)
                {
                    await bus.EmitObjectRemovedAsync(path).ConfigureAwait(false);
                    await _domainObjects[domain.Name].DisposeAsync().ConfigureAwait(false);
                    _domainObjects.Remove(domain.Name);
                }
                else if (present)
                {
                    await bus.EmitPropertiesChanged(path, BusContract.DomainInterface, DomainObject.ChangingProperties).ConfigureAwait(false);
                }
                if (domain.Job is { } job)
                    await _jobs!.ExportAsync(job).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BusClosedException or BusErrorException or InvalidOperationException)
            {
                LogForwardFailed(domain.Name, e.Message);
            }
        }
    }

    private async Task ExportDomainAsync(BusConnection bus, Domain domain)
    {
        var handle = await bus.AddObjectAsync(BusContract.DomainPath(domain.Name),
            DomainObject.Build(domain, domains, migrations, stale, launcher, _policy, _jobs!)).ConfigureAwait(false);
        _domainObjects[domain.Name] = handle;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {ServiceName} on the {Bus} bus as {UniqueName}")]
    private partial void LogServing(string serviceName, string bus, string uniqueName);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lost the D-Bus connection; exiting so the service manager restarts the daemon (VMs keep running)")]
    private partial void LogBusLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: change not forwarded to D-Bus: {Reason}")]
    private partial void LogForwardFailed(string domainName, string reason);
}
