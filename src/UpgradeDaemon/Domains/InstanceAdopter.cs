using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Finds, after a daemon restart, every QEMU that outlived the old daemon: each runtime dir's instance.json is checked
/// against the live process (pid, start time, and a command line naming this very dir), so a recycled pid is never
/// adopted. It decides nothing about roles: the instances it connects to are handed to migration recovery, which
/// registers one per domain from the journal and QEMU's own state. Dirs of dead instances are removed; a live QEMU is
/// never killed here, not even one whose definition cannot be read (it is adopted as <see cref="DomainState.Orphaned"/>).
/// </summary>
public sealed partial class InstanceAdopter(DaemonOptions options, DomainRegistry registry, InstanceLauncher launcher,
    Remote.IncomingJournal incomingJournal, ILogger<InstanceAdopter> logger)
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public async Task<AdoptedInstances> ScanAsync(CancellationToken cancellationToken)
    {
        var live = new List<DomainInstance>();
        var incoming = new List<(Remote.IncomingRecord, DomainInstance)>();
        var incomingJobs = incomingJournal.ReadAll((file, why) => LogSkipped(file, why))
            .Where(r => r.TargetInstanceId is not null)
            .ToDictionary(r => r.TargetInstanceId!, StringComparer.Ordinal);
        var gone = new List<InstanceRecord>();
        var unreachable = new List<InstanceRecord>();
        var orphaned = new List<string>();
        var removed = new List<string>();
        if (!Directory.Exists(options.RuntimeDirectory))
            return new AdoptedInstances(live, gone, unreachable, orphaned, removed) { RemoteIncoming = incoming };

        foreach (var directory in Directory.GetDirectories(options.RuntimeDirectory).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(directory).StartsWith("probe.", StringComparison.Ordinal))
            {
                Remove(directory, removed);
                continue;
            }
            var paths = new InstancePaths(directory);
            InstanceRecord record;
            try
            {
                record = InstanceRecordJson.Deserialize(File.ReadAllBytes(paths.InstanceFile));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                // A QEMU may still run from here: its sockets stay, and nobody may boot its domain beside it.
                if (LiveProcessNaming(paths) is { } pid)
                {
                    LogUnattributable(directory, pid, e.Message);
                    if (registry.Find(DomainNameOf(directory)) is { } named)
                        registry.SetState(named, DomainState.Unreachable);
                    continue;
                }
                LogSkipped(directory, $"no readable instance.json ({e.Message})");
                Remove(directory, removed);
                continue;
            }
            var identity = ProcFs.TryReadIdentity(record.Pid);
            if (record.Pid <= 0 || identity is null || identity.StartTime != record.StartTime || !CommandLineNames(record.Pid, paths))
            {
                LogSkipped(directory, $"process {record.Pid} is gone (or the pid now belongs to another process)");
                gone.Add(record);
                Remove(directory, removed);
                continue;
            }
            var domain = registry.FindByUuid(record.Uuid);
            // The target of a remote migration: its domain is defined here only at Commit. Its definition comes from
            // the incoming journal, and its fate is the remote recovery's (Remote.RemoteMigrationDst), not the local one's.
            if (record.Role == InstanceRole.Incoming && incomingJobs.TryGetValue(record.InstanceId, out var job))
            {
                try
                {
                    var target = await ConnectAsync(record, paths, identity, DefinitionParser.Parse(job.Definition), cancellationToken)
                        .ConfigureAwait(false);
                    incoming.Add((job, target));
                    LogFound(target.Definition.Name, target.InstanceId, target.Pid, record.Role);
                }
                catch (Exception e) when (e is InstanceStartException or DefinitionException)
                {
                    LogUnreachable(directory, record.Pid, e.Message);
                    unreachable.Add(record);
                }
                continue;
            }
            DomainInstance instance;
            try
            {
                instance = await ConnectAsync(record, paths, identity, domain?.Definition ?? OrphanDefinition(record), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (InstanceStartException e)
            {
                // Alive but deaf: a QEMU we cannot control is worse than none, yet it may hold the guest. The dir stays,
                // nothing is killed, and the domain is marked so nobody boots a second copy beside it.
                LogUnreachable(directory, record.Pid, e.Message);
                unreachable.Add(record);
                if (domain is not null)
                    registry.SetState(domain, DomainState.Unreachable);
                continue;
            }
            if (domain is null)
            {
                if (await AdoptOrphanAsync(record, instance).ConfigureAwait(false))
                    orphaned.Add(record.Name);
                continue;
            }
            live.Add(instance);
            LogFound(instance.Definition.Name, instance.InstanceId, instance.Pid, instance.Record.Role);
        }
        return new AdoptedInstances(live, gone, unreachable, orphaned, removed) { RemoteIncoming = incoming };
    }

    /// <summary>
    /// Live QEMUs of <paramref name="domainName"/> found through the runtime dirs, whatever the registry believes:
    /// start asks this before it boots, so a leftover copy of the guest can never get a second one beside it.
    /// </summary>
    public static IReadOnlyList<int> LiveProcessesOf(string runtimeDirectory, string domainName)
    {
        if (!Directory.Exists(runtimeDirectory))
            return [];
        var pids = new List<int>();
        foreach (var directory in Directory.GetDirectories(runtimeDirectory, domainName + ".*"))
        {
            if (DomainNameOf(directory) != domainName)
                continue;
            var paths = new InstancePaths(directory);
            if (LiveProcessNaming(paths) is { } pid)
                pids.Add(pid);
        }
        return pids;
    }

    private static async Task<DomainInstance> ConnectAsync(InstanceRecord record, InstancePaths paths, ProcessIdentity identity,
        DomainDefinition definition, CancellationToken cancellationToken)
    {
        if (!File.Exists(paths.QmpSocket))
            throw new InstanceStartException(record.Name, $"QEMU pid {record.Pid} runs but its QMP socket {paths.QmpSocket} is gone");
        var exit = ProcessExitWatcher.TryOpen(record.Pid);
        try
        {
            var qmp = await QmpClient.ConnectAsync(paths.QmpSocket, new QmpClientOptions { ConnectTimeout = ConnectTimeout }, cancellationToken)
                .ConfigureAwait(false);
            return new DomainInstance(definition, record.InstanceId, paths, record, identity, qmp, exit);
        }
        catch (Exception e) when (e is IOException or QmpProtocolException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            exit?.Dispose();
            throw new InstanceStartException(record.Name, $"QEMU pid {record.Pid} runs but its QMP socket does not answer: {e.Message}");
        }
    }

    /// <summary>
    /// A running QEMU whose definition did not load (a corrupt or missing file): killing it would end a guest over a
    /// bad file. It is kept under a stand-in definition made from its instance.json, so it shows, and stop works; its
    /// RAM file stays where it is.
    /// </summary>
    private async Task<bool> AdoptOrphanAsync(InstanceRecord record, DomainInstance instance)
    {
        var reason = $"no readable definition with uuid {record.Uuid} in the state dir";
        try
        {
            var domain = new Domain(instance.Definition) { DefinitionError = reason };
            registry.Add(domain);
            registry.SetActive(domain, instance, DomainState.Orphaned);
            LogOrphaned(record.Name, record.Uuid, instance.Pid, reason);
            return true;
        }
        catch (DomainExistsException e)
        {
            // Another domain holds the name, or this uuid already has an orphan: leave the process alone, reported.
            LogUnattributable(instance.Paths.Directory, instance.Pid, e.Message);
            await instance.DetachAsync().ConfigureAwait(false);
            return false;
        }
    }

    private DomainDefinition OrphanDefinition(InstanceRecord record)
    {
        var stub = new DomainDefinition { Name = record.Name, Uuid = record.Uuid, Qemu = record.Binary };
        return stub with { MemoryBacking = File.Exists(launcher.SharedMemoryFileOf(stub)) ? MemoryBacking.Shared : MemoryBacking.Private };
    }

    /// <summary>"vm.1a2b3c4d" → "vm" (a domain name may hold dots; the instance id never does).</summary>
    private static string DomainNameOf(string directory)
    {
        var name = Path.GetFileName(directory);
        var dot = name.LastIndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }

    /// <summary>A live QEMU whose command line names this dir's QMP socket, found through /proc whatever instance.json says.</summary>
    private static int? LiveProcessNaming(InstancePaths paths)
    {
        if (TryReadRecord(paths) is { } record && ProcFs.TryReadIdentity(record.Pid) is { } identity
            && identity.StartTime == record.StartTime && CommandLineNames(record.Pid, paths))
            return record.Pid;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var pid) && pid != Environment.ProcessId && CommandLineNames(pid, paths)
                && ProcFs.TryReadIdentity(pid) is not null)
                return pid;
        }
        return null;
    }

    private static InstanceRecord? TryReadRecord(InstancePaths paths)
    {
        try
        {
            return InstanceRecordJson.Deserialize(File.ReadAllBytes(paths.InstanceFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Found {DomainName}: instance {InstanceId}, pid {Pid}, role on disk {Role}")]
    private partial void LogFound(string domainName, string instanceId, int pid, InstanceRole role);

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime dir {Directory} not adopted: {Reason}")]
    private partial void LogSkipped(string directory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Runtime dir {Directory}: QEMU pid {Pid} is alive but QMP does not answer: {Reason}")]
    private partial void LogUnreachable(string directory, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Runtime dir {Directory}: QEMU pid {Pid} runs from it but cannot be attributed ({Reason}); left running, untouched")]
    private partial void LogUnattributable(string directory, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain {DomainName} ({DomainUuid}): QEMU pid {Pid} runs but {Reason}; kept running as orphaned (stop works, start is refused)")]
    private partial void LogOrphaned(string domainName, Guid domainUuid, int pid, string reason);
}
