using System.Threading.Channels;
using LocalMigrate.Contract;
using LocalMigrate.Contract.Client;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Upgrade;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Serves org.localmigrate1 with Tmds.DBus.Protocol: the Manager, one Domain object per domain and one Job object
/// per migration (this class is the one place that exports and removes them, announcing each through the
/// ObjectManager). Objects are exported on the engine's thread as the engine creates them, so a path handed to a
/// caller always answers; property changes are computed and sent by one forwarder, so the engine never waits for the
/// bus and announcements keep their order. The bus name is requested last, so a client that finds the name finds
/// every object.
/// </summary>
internal sealed partial class ApiServer(DaemonArguments arguments, DaemonOptions options, DomainRegistry registry, DomainService domains,
    MigrationService migrations, UpgradePlanner upgrades, StandbyTargets standbys, StaleDetector stale, InstanceLauncher launcher, IHostApplicationLifetime lifetime,
    Snapshots.SnapshotService snapshots, Remote.RemoteMigrationDst incoming, Evacuation.HostMaintenance maintenance,
    Evacuation.EvacuationService evacuations, ILogger<ApiServer> logger) : IHostedService
{
    private readonly Channel<ExportedObject> _changed = Channel.CreateUnbounded<ExportedObject>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _exportGate = new();
    private DBusConnection? _bus;
    private BusObjectTree? _tree;
    private CallerPolicy? _policy;
    private Task? _forwarder;
    private volatile bool _stopping;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var address = BusAddresses.Resolve(arguments.Bus);
        var bus = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false, OnException = OnBusException });
        await bus.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        _bus = bus;
        var credentials = new CallerCredentials(bus);
        await credentials.StartAsync().ConfigureAwait(false);
        _policy = new CallerPolicy(options, credentials);
        _tree = new BusObjectTree(logger);
        var manager = new ExportedObject(BusContract.ManagerPath, ManagerObject.Build(options, domains, migrations, upgrades, standbys, maintenance, evacuations, _policy));
        manager.MarkAnnounced();
        maintenance.Changed += () => _changed.Writer.TryWrite(manager);
        _tree.Add(manager);
        _tree.Add(new ExportedObject(BusContract.PeerPath, PeerObject.Build(incoming, _policy)));
        lock (_exportGate)
        {
            registry.Changed += OnDomainChanged;
            migrations.JobAdded += OnJobAdded;
            foreach (var domain in registry.List())
                Export(domain);
            foreach (var job in migrations.Jobs())
                Export(job);
        }
        bus.AddMethodHandler(_tree);
        _forwarder = Task.Run(() => ForwardChangesAsync(bus));
        // Without replacement: a second daemon on the same bus must fail, not take the API from the first.
        if (!await bus.TryRequestNameAsync(BusContract.ServiceName, RequestNameOptions.None).ConfigureAwait(false))
            throw new InvalidOperationException($"{BusContract.ServiceName} is already owned on {address}: is another localmigrated running?");
        LogServing(BusContract.ServiceName, address, bus.UniqueName ?? "?");
        // A daemon that lost its bus can serve nobody: exit (non-zero), so systemd restarts it; the VMs run on.
        _ = bus.DisconnectedAsync().ContinueWith(_ =>
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
        registry.Changed -= OnDomainChanged;
        migrations.JobAdded -= OnJobAdded;
        _changed.Writer.TryComplete();
        if (_forwarder is not null)
            await _forwarder.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        _bus?.Dispose();
    }

    private void OnBusException(DBusConnection.ExceptionContext context)
    {
        // A handler's or signal reader's exception is that call's problem, never a reason to drop the connection
        // (Tmds.DBus.Protocol's default); the dispatcher already answered it with an error.
        if (context.Source != DBusConnection.ExceptionSource.ConnectionFailed)
        {
            context.DisconnectConnection = false;
            LogBusHandlerFailed(context.Source.ToString(), context.Exception);
        }
    }

    private void OnDomainChanged(Domain domain)
    {
        lock (_exportGate)
        {
            var path = BusContract.DomainPath(domain.Name);
            var exported = _tree!.Find(path);
            var present = registry.Find(domain.Name) == domain;
            if (present && exported is null)
                Export(domain);
            else if (!present && exported is not null && _tree.Remove(path, out var removed))
                BusSignals.InterfacesRemoved(_bus!, removed!);
            else if (exported is not null)
                _changed.Writer.TryWrite(exported);
        }
    }

    private void OnJobAdded(MigrationJob job)
    {
        lock (_exportGate)
        {
            Export(job);
            // Jobs the engine no longer lists (it keeps the most recent ones) leave the bus with them.
            var listed = migrations.Jobs().Select(j => BusContract.JobPath(j.Id)).Append(BusContract.JobPath(job.Id)).ToHashSet(StringComparer.Ordinal);
            foreach (var old in _tree!.Below(BusContract.JobPathPrefix.TrimEnd('/')).Where(o => !listed.Contains(o.Path)).ToList())
            {
                if (_tree.Remove(old.Path, out var removed))
                    BusSignals.InterfacesRemoved(_bus!, removed!);
            }
        }
    }

    private void Export(Domain domain)
    {
        var exported = new ExportedObject(BusContract.DomainPath(domain.Name), DomainObject.Build(domain, domains, migrations, stale, launcher, snapshots, _policy!));
        if (!_tree!.Add(exported))
            return;
        exported.MarkAnnounced();
        BusSignals.InterfacesAdded(_bus!, exported);
    }

    private void Export(MigrationJob job)
    {
        var exported = new ExportedObject(BusContract.JobPath(job.Id), JobObject.Build(job, _policy!));
        if (!_tree!.Add(exported))
            return;
        exported.MarkAnnounced();
        job.Changed += (_, _) => _changed.Writer.TryWrite(exported);
        BusSignals.InterfacesAdded(_bus!, exported);
    }

    private async Task ForwardChangesAsync(DBusConnection bus)
    {
        await foreach (var exported in _changed.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                exported.Announce((changed, invalidated) =>
                    BusSignals.PropertiesChanged(bus, exported.Path, exported.Interface.Contract.Name, changed, invalidated));
            }
            catch (Exception e)
            {
                LogForwardFailed(exported.Path, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {ServiceName} on {Bus} as {UniqueName}")]
    private partial void LogServing(string serviceName, string bus, string uniqueName);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lost the D-Bus connection; exiting so the service manager restarts the daemon (VMs keep running)")]
    private partial void LogBusLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: change not announced on D-Bus: {Reason}")]
    private partial void LogForwardFailed(string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "D-Bus {Source} failed; the connection stays up")]
    private partial void LogBusHandlerFailed(string source, Exception exception);
}
