using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LocalMigrate.Interop.Posix;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// The real <c>localmigrated</c> as a process on a <see cref="TestBus"/>, in private directories, and the real
/// <c>localmigrate</c> command against it. The daemon can be killed and restarted; QEMUs it started are found
/// through /proc and killed when the fixture goes.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private Process? _process;
    private readonly StringBuilder _log = new();
    private readonly IReadOnlyList<string> _launcher;

    /// <param name="configOverrides">A JSON object merged into the config (objects field by field), e.g. a <c>remote</c> section.</param>
    /// <param name="launcher">A command the daemon runs under, e.g. <c>ip netns exec NAME</c> (it must exec, so the pid stays the daemon's).</param>
    public DaemonProcess(ITestOutputHelper output, string? configJson = null, string? configOverrides = null, IReadOnlyList<string>? launcher = null)
    {
        _output = output;
        _launcher = launcher ?? [];
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        Root = $"/tmp/lmd-{id}";
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, (UnixFileMode)Convert.ToInt32("755", 8));
        SharedMemoryDirectory = $"/dev/shm/lmd-{id}";
        Bus = new TestBus(Path.Combine(Root, "bus"));
        ConfigFile = Path.Combine(Root, "localmigrated.json");
        var config = configJson ?? $$"""{ "defaultAccel": "{{TestGuest.Accel}}", "sharedMemoryDirectory": "{{SharedMemoryDirectory}}", "stopTimeoutSeconds": 5 }""";
        File.WriteAllText(ConfigFile, configOverrides is null ? config : MergeJson(JsonNode.Parse(config)!.AsObject(), JsonNode.Parse(configOverrides)!.AsObject()).ToJsonString());
    }

    /// <summary>Sets every field of <paramref name="overrides"/> in <paramref name="target"/>; nested objects field by field.</summary>
    internal static JsonObject MergeJson(JsonObject target, JsonObject overrides)
    {
        foreach (var (name, value) in overrides.ToList())
        {
            if (value is JsonObject inner && target[name] is JsonObject existing)
                MergeJson(existing, inner);
            else
                target[name] = value?.DeepClone();
        }
        return target;
    }

    public string Root { get; }
    public TestBus Bus { get; }
    public string ConfigFile { get; }
    public string SharedMemoryDirectory { get; }
    public string StateDirectory => Path.Combine(Root, "state");
    public string RuntimeDirectory => Path.Combine(Root, "run");
    public int Pid => _process?.Id ?? 0;
    public string Log { get { lock (_log) return _log.ToString(); } }

    private static string BinaryDirectory => AppContext.BaseDirectory;

    /// <summary>Starts the daemon and waits until it answers on the bus.</summary>
    /// <param name="parent">A program that starts the daemon as its child (its first argument) and forwards SIGTERM to it.</param>
    public async Task StartAsync(IDictionary<string, string>? environment = null, string? parent = null)
    {
        var command = _launcher.Concat(parent is null ? [] : [parent]).Append(Path.Combine(BinaryDirectory, "localmigrated")).ToList();
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in command.Skip(1))
            start.ArgumentList.Add(a);
        foreach (var a in new[] { "--bus", Bus.Address, "--config", ConfigFile, "--state-dir", StateDirectory, "--runtime-dir", RuntimeDirectory })
            start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            start.Environment[k] = v;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await CliAsync("list")).ExitCode != 0)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"localmigrated did not come up (exited: {_process.HasExited}); log: {Log}");
            await Task.Delay(50);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
        try
        {
            _output.WriteLine("daemon: " + line);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <returns>The daemon's exit code, once it exited by itself.</returns>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process!.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async Task KillAsync()
    {
        if (_process is null)
            return;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, the way systemd stops the service; waits for a clean exit.</summary>
    public async Task<int> TerminateAsync()
    {
        if (_process is null)
            return -1;
        Signals.Terminate(ProcFs.TryReadIdentity(_process.Id)!);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>Runs <c>localmigrate ARGS</c> against this daemon; as another user when <paramref name="user"/> is given.</summary>
    public async Task<CommandResult> CliAsync(params string[] args) => await CliAsUserAsync(null, args);

    public Task<CommandResult> CliAsUserAsync(string? user, params string[] args)
    {
        var cli = Path.Combine(BinaryDirectory, "localmigrate");
        // setpriv --reset-env drops our environment: for another user the bus goes on the command line.
        return user is null
            ? ProcessRunner.RunAsync(cli, args, new Dictionary<string, string> { ["LOCALMIGRATE_BUS"] = Bus.Address })
            : ProcessRunner.RunAsync("setpriv", new[] { $"--reuid={user}", $"--regid={user}", "--clear-groups", "--reset-env", cli, "--bus", Bus.Address }.Concat(args));
    }

    /// <summary>Starts <c>localmigrate ARGS</c> without waiting (a migration to cancel, a client to kill).</summary>
    public Process StartCli(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(BinaryDirectory, "localmigrate")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["LOCALMIGRATE_BUS"] = Bus.Address;
        return Process.Start(start)!;
    }

    public GuestConsole Console(string name) => new(Path.Combine(StateDirectory, "console", name + ".log"));

    public async Task<GuestConsole> BootGuestAsync(string name, int memoryMiB = 256, string backing = "shared", int patternMiB = 32,
        string? qemu = null)
    {
        var file = Path.Combine(Root, name + ".json");
        await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition(name, memoryMiB,
            backing == "shared" ? UpgradeDaemon.Domains.MemoryBacking.Shared : UpgradeDaemon.Domains.MemoryBacking.Private, patternMiB, qemu));
        var define = await CliAsync("define", file);
        Assert.True(define.ExitCode == 0, define.ToString());
        var start = await CliAsync("start", name);
        Assert.True(start.ExitCode == 0, start.ToString());
        var console = Console(name);
        await console.WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(60));
        return console;
    }

    /// <summary>QEMU processes started from this fixture's runtime dir, found through /proc.</summary>
    public IReadOnlyList<int> QemuProcesses() => ProcessScan.QemuUnder(RuntimeDirectory);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
            await KillAsync();
        foreach (var pid in QemuProcesses())
        {
            if (ProcFs.TryReadIdentity(pid) is { } identity)
                Signals.Kill(identity);
        }
        Bus.Dispose();
        foreach (var dir in new[] { Root, SharedMemoryDirectory })
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
