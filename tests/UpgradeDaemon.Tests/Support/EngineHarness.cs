using System.Security.Cryptography;
using System.Text.Json;
using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// The real engine (real QEMU, real sockets) in private directories: short paths under /tmp (unix socket paths
/// are limited to 107 bytes) and a private shared-memory dir. Disposing kills every QEMU whose command line
/// names those directories, whatever state a failed test left.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    /// <param name="replace">Swaps an engine service for the test (e.g. a destination that injects a fault), after the engine's own.</param>
    public EngineHarness(ITestOutputHelper output, Func<DaemonOptions, DaemonOptions>? configure = null, IMigrationPhaseGate? gate = null,
        Action<IServiceCollection>? replace = null)
    {
        Output = output;
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        Root = $"/tmp/lmt-{id}";
        var options = new DaemonOptions
        {
            StateDirectory = Path.Combine(Root, "state"),
            RuntimeDirectory = Path.Combine(Root, "run"),
            SharedMemoryDirectory = $"/dev/shm/lmt-{id}",
            DefaultAccel = TestGuest.Accel,
            StopTimeout = TimeSpan.FromSeconds(5),
        };
        Options = configure?.Invoke(options) ?? options;
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information))
            .AddLocalMigrateEngine(Options);
        if (gate is not null)
            services.AddSingleton(gate);
        replace?.Invoke(services);
        _services = services.BuildServiceProvider();
        _services.GetRequiredService<InstanceMonitor>();
    }

    public ITestOutputHelper Output { get; }
    public string Root { get; }
    public DaemonOptions Options { get; }
    public DomainRegistry Registry => _services.GetRequiredService<DomainRegistry>();
    public DomainService Domains => _services.GetRequiredService<DomainService>();
    public MigrationService Migrations => _services.GetRequiredService<MigrationService>();
    public LocalMigrate.UpgradeDaemon.Snapshots.SnapshotService Snapshots => _services.GetRequiredService<LocalMigrate.UpgradeDaemon.Snapshots.SnapshotService>();
    public MigrationJournal Journal => _services.GetRequiredService<MigrationJournal>();
    public UpgradeDaemon.Upgrade.StaleDetector Stale => _services.GetRequiredService<UpgradeDaemon.Upgrade.StaleDetector>();

    /// <summary>The daemon's start/stop logic: load, adopt, recover; detach on stop.</summary>
    public EngineHostedService Engine => _engine ??= ActivatorUtilities.CreateInstance<EngineHostedService>(_services);

    private EngineHostedService? _engine;

    /// <summary>What a daemon stop does: the engine lets go of every QEMU, which keeps running; nothing is deleted.</summary>
    public async Task DetachAsync()
    {
        await Engine.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        _detached = true;
    }

    private bool _detached;

    public static string GuestDefinition(string name, int memoryMiB = 256, MemoryBacking backing = MemoryBacking.Shared,
        int patternMiB = 32, string? qemu = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["name"] = name,
            ["memoryMiB"] = memoryMiB,
            ["machine"] = "q35",
            ["kernel"] = TestGuest.Kernel,
            ["initrd"] = TestGuest.Initrd,
            ["cmdline"] = $"console=ttyS0 quiet lm.pattern_mib={patternMiB}",
            ["memoryBacking"] = backing == MemoryBacking.Shared ? "shared" : "private",
            ["qemu"] = qemu,
        }.Where(kv => kv.Value is not null).ToDictionary());

    /// <summary>Defines and boots the test guest, and waits until it ticks.</summary>
    public async Task<GuestConsole> BootGuestAsync(string name, int memoryMiB = 256, MemoryBacking backing = MemoryBacking.Shared,
        int patternMiB = 32, string? qemu = null)
    {
        await Domains.DefineAsync(GuestDefinition(name, memoryMiB, backing, patternMiB, qemu), CancellationToken.None);
        await Domains.StartAsync(name, CancellationToken.None);
        var console = Console(name);
        await console.WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(60));
        return console;
    }

    public GuestConsole Console(string name) => new(Path.Combine(Options.StateDirectory, "console", name + ".log"));

    public async Task<MigrationJob> MigrateAsync(string name, MigrationOptions? options = null)
    {
        var job = Migrations.Start(name, MigrationKind.Local, options ?? new MigrationOptions());
        return await job.Completion.WaitAsync(TimeSpan.FromMinutes(5));
    }

    /// <summary>Runtime dirs that exist right now, e.g. "vm.1a2b3c4d".</summary>
    public IReadOnlyList<string> RuntimeDirectories() =>
        Directory.Exists(Options.RuntimeDirectory)
            ? Directory.GetDirectories(Options.RuntimeDirectory).Select(d => Path.GetFileName(d)!).Where(d => !d.StartsWith("probe.", StringComparison.Ordinal)).Order().ToList()
            : [];

    /// <summary>Every QEMU process started from this harness's directories (found through /proc, not through the engine).</summary>
    public IReadOnlyList<int> QemuProcesses() => ProcessScan.QemuUnder(Options.RuntimeDirectory);

    public async ValueTask DisposeAsync()
    {
        if (_detached)
            return;
        foreach (var pid in QemuProcesses())
        {
            if (ProcFs.TryReadIdentity(pid) is { } identity)
                Signals.Kill(identity);
        }
        await _services.DisposeAsync();
        foreach (var dir in new[] { Root, Options.SharedMemoryDirectory })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
