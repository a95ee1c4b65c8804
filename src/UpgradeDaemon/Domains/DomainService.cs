using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>Define, undefine, start and stop: the domain life cycle outside migrations.</summary>
public sealed partial class DomainService(DaemonOptions options, DomainRegistry registry, DefinitionStore store,
    QemuBinaryProbe probe, InstanceLauncher launcher, Evacuation.HostMaintenance maintenance, ILogger<DomainService> logger)
{
    public DomainRegistry Registry => registry;

    /// <summary>Loads stored definitions into the registry at start-up; a bad file is logged and skipped.</summary>
    public void LoadDefinitions()
    {
        foreach (var definition in store.LoadAll((file, e) => LogBadDefinition(file, e.Message)))
        {
            try
            {
                registry.Add(new Domain(definition));
            }
            catch (DomainExistsException e)
            {
                LogBadDefinition(store.PathOf(definition.Uuid), e.Message);
            }
        }
    }

    /// <summary>Validates, pins the machine type to a versioned one, stores, registers.</summary>
    /// <exception cref="DefinitionException">Every bad field by name.</exception>
    public async Task<Domain> DefineAsync(string json, CancellationToken cancellationToken)
    {
        var definition = DefinitionParser.Parse(json);
        DefinitionFileCheck.ThrowIfUnusable(definition);
        if (NicBackends.CheckHost(definition) is [_, ..] nicErrors)
            throw new DefinitionException(nicErrors);
        var existing = registry.Find(definition.Name);
        if (existing is not null)
            throw new DomainExistsException(definition.Name);
        var binary = launcher.BinaryOf(definition);
        QemuBinaryInfo info;
        try
        {
            info = await probe.ProbeAsync(binary, cancellationToken).ConfigureAwait(false);
        }
        catch (QemuBinaryException e)
        {
            throw new DefinitionException([new DefinitionError(definition.Qemu is null ? "qemu (daemon default)" : "qemu", e.Message)]);
        }
        var machine = info.ResolveMachine(definition.Machine)
            ?? throw new DefinitionException([new DefinitionError("machine", $"QEMU {info.Version} ({binary}) has no machine type '{definition.Machine}'")]);
        definition = definition with { Machine = machine };
        var domain = new Domain(definition);
        registry.Add(domain);
        try
        {
            store.Save(definition);
        }
        catch
        {
            registry.Remove(domain);
            throw;
        }
        LogDefined(definition.Name, definition.Uuid, machine);
        return domain;
    }

    public async Task UndefineAsync(string name)
    {
        var domain = registry.Get(name);
        await domain.Lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (domain.Active is not null)
                throw new DomainBusyException($"domain {name} is {domain.State.ToString().ToLowerInvariant()}: stop it first");
            // The console log goes with the domain, first: a later domain of the same name must not show this one's
            // output, and a failure here leaves the domain defined, with the reason.
            File.Delete(launcher.ConsoleLogOf(name));
            store.Delete(domain.Definition.Uuid);
            registry.Remove(domain);
        }
        finally
        {
            domain.Lock.Release();
        }
    }

    public async Task StartAsync(string name, CancellationToken cancellationToken)
    {
        var domain = registry.Get(name);
        maintenance.ThrowIfOn($"start {name}");
        if (!await domain.Lock.WaitAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false))
            throw new DomainBusyException($"domain {name} is busy ({domain.Job?.Kind.ToString().ToLowerInvariant() ?? domain.Operation ?? "another request"} in progress)");
        try
        {
            if (domain.Active is not null)
                throw new DomainBusyException($"domain {name} is already {domain.State.ToString().ToLowerInvariant()}");
            if (domain.State == DomainState.Unreachable)
                throw new DomainBusyException($"domain {name}: a QEMU of it still runs but does not answer on QMP (see {options.RuntimeDirectory}); " +
                                              "stop that process by hand, then restart localmigrated");
            if (domain.DefinitionError is { } unreadable)
                throw new DomainBusyException($"domain {name}: {unreadable}; fix the definition file or undefine the domain");
            // No second copy of a guest, whatever the registry says: not beside a migration target, not beside a QEMU
            // a failed job or a lost daemon left behind (booting would also recreate the RAM file under it).
            if (registry.Shadow.Find(name) is { } incoming)
                throw new DomainBusyException($"domain {name}: a migration target of it still runs (pid {incoming.Pid})");
            if (InstanceAdopter.LiveProcessesOf(options.RuntimeDirectory, name) is [var pid, ..])
                throw new DomainBusyException($"domain {name}: a QEMU of it still runs (pid {pid}, under {options.RuntimeDirectory}); stop it first");
            var definition = domain.Definition;
            foreach (var (field, path) in new[] { ("kernel", definition.Kernel), ("initrd", definition.Initrd) })
            {
                if (path is not null && !File.Exists(path))
                    throw new InstanceStartException(name, $"{field} {path} does not exist");
            }
            registry.SetState(domain, DomainState.Starting);
            launcher.CreateSharedMemoryFile(definition);
            DomainInstance instance;
            try
            {
                instance = await launcher.LaunchAsync(definition, launcher.BinaryOf(definition), InstanceRole.Active, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch
            {
                launcher.DeleteSharedMemoryFile(definition);
                registry.SetState(domain, DomainState.Shutoff);
                throw;
            }
            registry.SetActive(domain, instance, DomainState.Running);
            LogStarted(name, instance.InstanceId, instance.Pid, instance.QemuVersion);
        }
        finally
        {
            domain.Lock.Release();
        }
    }

    /// <param name="force">Quit QEMU at once instead of asking the guest to power off.</param>
    public async Task StopAsync(string name, bool force, CancellationToken cancellationToken)
    {
        var domain = registry.Get(name);
        if (!await domain.Lock.WaitAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false))
            throw new DomainBusyException($"domain {name} is busy ({domain.Job?.Kind.ToString().ToLowerInvariant() ?? domain.Operation ?? "another request"} in progress)");
        try
        {
            var instance = domain.Active ?? throw new DomainBusyException($"domain {name} is not running");
            registry.SetState(domain, DomainState.Stopping);
            if (force)
            {
                // Signals, not QMP: a QEMU that no longer answers (stuck, SIGSTOP) must still go.
                await instance.DestroyAsync().ConfigureAwait(false);
                if (!instance.HasExited)
                {
                    registry.SetState(domain, DomainState.Running);
                    throw new InstanceUnresponsiveException($"domain {name}: QEMU (pid {instance.Pid}) survived SIGKILL; it still runs");
                }
            }
            else
            {
                try
                {
                    await instance.Monitor.SystemPowerdownAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (QmpDisconnectedException)
                {
                }
                catch (QmpTimeoutException e)
                {
                    registry.SetState(domain, DomainState.Running);
                    throw new InstanceUnresponsiveException(
                        $"domain {name}: QEMU (pid {instance.Pid}) did not answer system_powerdown within {e.Timeout.TotalSeconds:0} s; " +
                        "it still runs (stop --force kills it; if QEMU recovers it may still pass the power-off to the guest)", e);
                }
                if (!await instance.WaitForExitAsync(options.StopTimeout).ConfigureAwait(false))
                {
                    registry.SetState(domain, DomainState.Running);
                    throw new DomainBusyException($"domain {name} did not power off within {options.StopTimeout.TotalSeconds:0} s; it still runs (use --force to kill it)");
                }
            }
            registry.SetActive(domain, null, DomainState.Shutoff);
            instance.RemoveRuntimeDirectory();
            launcher.DeleteSharedMemoryFile(domain.Definition);
            await instance.DisposeAsync().ConfigureAwait(false);
            if (domain.Transient)
                registry.Remove(domain);
            LogStopped(name, instance.Pid, force);
        }
        finally
        {
            domain.Lock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipping definition {File}: {Reason}")]
    private partial void LogBadDefinition(string file, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName} defined, uuid {DomainUuid}, machine {Machine}")]
    private partial void LogDefined(string domainName, Guid domainUuid, string machine);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName} started: instance {InstanceId}, pid {Pid}, QEMU {QemuVersion}")]
    private partial void LogStarted(string domainName, string instanceId, int pid, string qemuVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName} stopped (pid {Pid}, force {Force})")]
    private partial void LogStopped(string domainName, int pid, bool force);
}
