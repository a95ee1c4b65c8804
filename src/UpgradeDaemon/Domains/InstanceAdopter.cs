using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Re-attaches, after a daemon restart, to every QEMU that outlived the old daemon: each runtime dir's
/// instance.json is checked against the live process (pid, start time, and a command line naming this very
/// dir), so a recycled pid is never adopted. Dirs of dead instances are removed.
/// </summary>
public sealed partial class InstanceAdopter(DaemonOptions options, DomainRegistry registry, ILogger<InstanceAdopter> logger)
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public async Task<AdoptedInstances> ScanAsync(CancellationToken cancellationToken)
    {
        var active = new List<DomainInstance>();
        var incoming = new List<DomainInstance>();
        var removed = new List<string>();
        if (!Directory.Exists(options.RuntimeDirectory))
            return new AdoptedInstances(active, incoming, removed, []);

        var deadActive = new HashSet<Guid>();
        foreach (var directory in Directory.GetDirectories(options.RuntimeDirectory).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(directory).StartsWith("probe.", StringComparison.Ordinal))
            {
                Remove(directory, removed);
                continue;
            }
            DomainInstance? instance;
            try
            {
                instance = await TryAdoptAsync(directory, deadActive, cancellationToken).ConfigureAwait(false);
            }
            catch (InstanceStartException)
            {
                // Alive but unreachable: the dir stays, so the next start can try again; nothing is killed, and the
                // domain is marked so nobody boots a second copy of the guest beside the running one.
                if (TryReadRecord(directory) is { } record && registry.FindByUuid(record.Uuid) is { } domain)
                    registry.SetState(domain, DomainState.Unreachable);
                continue;
            }
            if (instance is null)
            {
                Remove(directory, removed);
                continue;
            }
            (instance.Record.Role == InstanceRole.Active ? active : incoming).Add(instance);
            LogAdopted(instance.Definition.Name, instance.InstanceId, instance.Pid, instance.Record.Role);
        }

        foreach (var instance in active)
        {
            var domain = registry.FindByUuid(instance.Definition.Uuid)!;
            var state = await instance.QueryStatusAsync(cancellationToken).ConfigureAwait(false) == "running"
                ? DomainState.Running
                : DomainState.Paused;
            registry.SetActive(domain, instance, state);
        }
        foreach (var instance in incoming)
            registry.Shadow.Register(instance);
        // A domain whose active QEMU died while no daemon watched is reported, never silently restarted.
        // (If an incoming instance survived, migration recovery decides between it and nothing.)
        var crashed = new List<string>();
        foreach (var uuid in deadActive)
        {
            if (registry.FindByUuid(uuid) is { Active: null } domain && registry.Shadow.Find(domain.Name) is null)
            {
                registry.SetState(domain, DomainState.Crashed);
                crashed.Add(domain.Name);
                LogCrashedWhileAway(domain.Name);
            }
        }
        return new AdoptedInstances(active, incoming, removed, crashed);
    }

    private async Task<DomainInstance?> TryAdoptAsync(string directory, HashSet<Guid> deadActive, CancellationToken cancellationToken)
    {
        var paths = new InstancePaths(directory);
        InstanceRecord record;
        try
        {
            record = InstanceRecordJson.Deserialize(File.ReadAllBytes(paths.InstanceFile));
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            LogSkipped(directory, $"no readable instance.json ({e.Message})");
            return null;
        }
        var domain = registry.FindByUuid(record.Uuid);
        if (domain is null)
        {
            LogSkipped(directory, $"no domain with uuid {record.Uuid}");
            KillIfOurs(record, paths);
            return null;
        }
        var identity = ProcFs.TryReadIdentity(record.Pid);
        if (record.Pid <= 0 || identity is null || identity.StartTime != record.StartTime || !CommandLineNames(record.Pid, paths))
        {
            LogSkipped(directory, $"process {record.Pid} is gone (or the pid now belongs to another process)");
            if (record.Role == InstanceRole.Active)
                deadActive.Add(record.Uuid);
            return null;
        }
        if (!File.Exists(paths.QmpSocket))
        {
            LogUnreachable(directory, record.Pid, "qmp.sock is gone");
            throw new InstanceStartException(record.Name, $"QEMU pid {record.Pid} runs but its QMP socket {paths.QmpSocket} is gone");
        }
        var exit = ProcessExitWatcher.TryOpen(record.Pid);
        try
        {
            var qmp = await QmpClient.ConnectAsync(paths.QmpSocket, new QmpClientOptions { ConnectTimeout = ConnectTimeout }, cancellationToken)
                .ConfigureAwait(false);
            return new DomainInstance(domain.Definition, record.InstanceId, paths, record, identity, qmp, exit);
        }
        catch (Exception e) when (e is IOException or QmpProtocolException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // Alive but deaf: a QEMU we cannot control is worse than none; it keeps running, reported loudly.
            exit?.Dispose();
            LogUnreachable(directory, record.Pid, e.Message);
            throw new InstanceStartException(record.Name, $"QEMU pid {record.Pid} runs but its QMP socket does not answer: {e.Message}");
        }
    }

    private static InstanceRecord? TryReadRecord(string directory)
    {
        try
        {
            return InstanceRecordJson.Deserialize(File.ReadAllBytes(new InstancePaths(directory).InstanceFile));
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static bool CommandLineNames(int pid, InstancePaths paths)
    {
        try
        {
            return ProcFs.ReadCommandLine(pid).Any(a => a.Contains(paths.QmpSocket, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void KillIfOurs(InstanceRecord record, InstancePaths paths)
    {
        if (ProcFs.TryReadIdentity(record.Pid) is { } identity && identity.StartTime == record.StartTime && CommandLineNames(record.Pid, paths))
            Signals.Kill(identity);
    }

    private void Remove(string directory, List<string> removed)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
            removed.Add(directory);
        }
        catch (IOException e)
        {
            LogSkipped(directory, $"cannot remove: {e.Message}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Adopted {DomainName}: instance {InstanceId}, pid {Pid}, role {Role}")]
    private partial void LogAdopted(string domainName, string instanceId, int pid, InstanceRole role);

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime dir {Directory} not adopted: {Reason}")]
    private partial void LogSkipped(string directory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Runtime dir {Directory}: QEMU pid {Pid} is alive but QMP does not answer: {Reason}")]
    private partial void LogUnreachable(string directory, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName}: its QEMU ended while the daemon was down; reported as crashed, not restarted")]
    private partial void LogCrashedWhileAway(string domainName);
}
