using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Hosting;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Starts one QEMU instance: a fresh instance id and runtime dir, instance.json before and after the spawn,
/// a process in its own session (it outlives the daemon), and a connected QMP client.
/// </summary>
public sealed class InstanceLauncher(DaemonOptions options, InstanceScopes scopes)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public static string NewInstanceId() => RandomHex.Of(4);

    public string ConsoleLogOf(string domainName) => Path.Combine(options.StateDirectory, "console", domainName + ".log");

    public string SharedMemoryFileOf(DomainDefinition definition) =>
        Path.Combine(options.SharedMemoryDirectory, definition.Uuid.ToString("D") + ".ram");

    public string AccelOf(DomainDefinition definition) => definition.Accel ?? options.DefaultAccel;

    public string BinaryOf(DomainDefinition definition) => definition.Qemu ?? options.QemuBinary;

    /// <summary>Creates the guest RAM file of a shared-memory domain, 0600, zeroed: a fresh boot never sees old RAM.</summary>
    public void CreateSharedMemoryFile(DomainDefinition definition)
    {
        if (definition.MemoryBacking != MemoryBacking.Shared)
            return;
        Directory.CreateDirectory(options.SharedMemoryDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = SharedMemoryFileOf(definition);
        File.Delete(path);
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        stream.SetLength((long)definition.MemoryMiB * 1024 * 1024);
    }

    public void DeleteSharedMemoryFile(DomainDefinition definition)
    {
        // File.Delete tolerates a missing file, not a missing directory (a host that never ran a shared-memory guest).
        if (definition.MemoryBacking == MemoryBacking.Shared && File.Exists(SharedMemoryFileOf(definition)))
            File.Delete(SharedMemoryFileOf(definition));
    }

    /// <param name="role">Incoming instances start with <c>-incoming defer</c> and wait for migrate-incoming.</param>
    /// <exception cref="InstanceStartException">QEMU refused to start; the runtime dir is removed.</exception>
    /// <param name="startPaused">-S: the guest stays paused after an incoming migration until <c>cont</c> (remote targets).</param>
    public async Task<DomainInstance> LaunchAsync(DomainDefinition definition, string binary, InstanceRole role,
        CancellationToken cancellationToken, bool startPaused = false)
    {
        // Read before this instance's dir exists: a dir without a pid would make the lookup scan all of /proc.
        var running = definition.Nics.Any(n => n.UsesTap) ? InstanceAdopter.LiveProcessesOf(options.RuntimeDirectory, definition.Name) : [];
        var instanceId = NewInstanceId();
        var paths = InstancePaths.For(options.RuntimeDirectory, definition.Name, instanceId);
        paths.ValidateSocketLengths();
        Directory.CreateDirectory(options.RuntimeDirectory);
        Directory.CreateDirectory(paths.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var consoleLog = ConsoleLogOf(definition.Name);
        Directory.CreateDirectory(Path.GetDirectoryName(consoleLog)!);

        var record = new InstanceRecord
        {
            Name = definition.Name,
            Uuid = definition.Uuid,
            InstanceId = instanceId,
            Role = role,
            Binary = binary,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        ProcessIdentity? process = null;
        ProcessExitWatcher? exit = null;
        try
        {
            // Written before the spawn: a crash right after it leaves a dir a restarted daemon can recognise.
            InstanceRecordJson.Write(paths.InstanceFile, record);
            // Tap NICs: the running QEMU's own tap queue for a local migration's target, else a new (or the operator's) tap.
            using var nics = NicBackends.Open(definition, running);
            var args = QemuCommandLine.Build(definition, paths, AccelOf(definition), consoleLog,
                definition.MemoryBacking == MemoryBacking.Shared ? SharedMemoryFileOf(definition) : null,
                incoming: role == InstanceRole.Incoming, startPaused: startPaused, netdevs: nics.Netdevs);
            int pid;
            try
            {
                nics.GuardSharedTaps();
                pid = DetachedProcess.Spawn(binary, args, paths.QemuLog, inheritedFds: nics.Fds);
            }
            catch (IOException e)
            {
                throw new InstanceStartException(definition.Name, e.Message);
            }
            process = ProcFs.TryReadIdentity(pid) ?? new ProcessIdentity(pid, 0);
            exit = ProcessExitWatcher.TryOpen(pid);
            record = record with { Pid = pid, StartTime = process.StartTime, Nics = nics.Described.Count > 0 ? nics.Described : null };
            InstanceRecordJson.Write(paths.InstanceFile, record);
            // Out of the daemon's cgroup before anything else: from here on the VM does not share the service's fate.
            await scopes.MoveAsync(definition.Name, instanceId, pid, cancellationToken).ConfigureAwait(false);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StartTimeout);
            var connect = QmpClient.ConnectAsync(paths.QmpSocket, new QmpClientOptions { ConnectTimeout = StartTimeout }, timeout.Token);
            if (exit is null || await Task.WhenAny(connect, exit.Exited).ConfigureAwait(false) == exit.Exited)
            {
                _ = connect.ContinueWith(t => t.Result.DisposeAsync(), TaskContinuationOptions.OnlyOnRanToCompletion);
                throw new InstanceStartException(definition.Name, $"QEMU exited at start: {QemuLog.Tail(paths.QemuLog)}");
            }
            QmpClient qmp;
            try
            {
                qmp = await connect.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or QmpProtocolException or IOException && !cancellationToken.IsCancellationRequested)
            {
                throw new InstanceStartException(definition.Name, $"no QMP from QEMU: {e.Message}; {QemuLog.Tail(paths.QemuLog)}");
            }
            // The greeting comes after QEMU set up its tap backends: undo what that did to a tap the source shares. Then the
            // daemon keeps no copy, so a tap it created ends with the last QEMU holding it.
            try
            {
                nics.RestoreSharedTaps();
            }
            catch (IOException e)
            {
                throw new InstanceStartException(definition.Name, $"cannot give the shared tap back its header size: {e.Message}");
            }
            nics.Dispose();
            record = record with { QemuVersion = qmp.Greeting.Version.ToString(), QemuPackage = qmp.Greeting.Package.Trim() };
            InstanceRecordJson.Write(paths.InstanceFile, record);
            return new DomainInstance(definition, instanceId, paths, record, process, qmp, exit);
        }
        catch
        {
            if (process is not null)
                Signals.Kill(process);
            if (exit is not null)
            {
                await exit.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                exit.Dispose();
            }
            TryDeleteDirectory(paths.Directory);
            throw;
        }
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
