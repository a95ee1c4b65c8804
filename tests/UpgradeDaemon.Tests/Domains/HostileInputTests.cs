using System.Text;
using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

/// <summary>
/// Issue 11 end to end: the real daemon and the real <c>localmigrate</c>, fed what a hostile or careless user would
/// feed them. Each bad input ends in one clear line and a distinct exit code, and the daemon stays small.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonProcess _daemon = new(output);

    public Task InitializeAsync() => _daemon.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private static void AssertRefusedInOneLine(CommandResult result, params string[] parts)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.Stderr.Trim().Split('\n'));
        foreach (var part in parts)
            Assert.Contains(part, result.Stderr);
    }

    private long DaemonRssKiB() =>
        long.Parse(File.ReadLines($"/proc/{_daemon.Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    [Fact]
    public async Task Define_ZeroDeviceHugeFileOrDirectory_OneLineNamingFileAndLimitExitTwo()
    {
        var zero = await _daemon.CliAsync("define", "/dev/zero");
        AssertRefusedInOneLine(zero, "FILE: /dev/zero is larger than 1048576 bytes (1 MiB)");

        // 50 MB of NICs: before, the bus dropped the connection ("Connection terminated") without a reason.
        var huge = Path.Combine(_daemon.Root, "huge.json");
        await using (var writer = new StreamWriter(huge))
        {
            await writer.WriteAsync("""{"name":"huge","kernel":"/k","nics":[{}""");
            var chunk = string.Concat(Enumerable.Repeat(",{}", 1 << 18));
            for (var written = 0; written < 50_000_000; written += chunk.Length)
                await writer.WriteAsync(chunk);
            await writer.WriteAsync("]}");
        }
        AssertRefusedInOneLine(await _daemon.CliAsync("define", huge), $"FILE: {huge} is larger than 1048576 bytes");

        AssertRefusedInOneLine(await _daemon.CliAsync("define", _daemon.Root), $"FILE: {_daemon.Root} is a directory");

        var latin1 = Path.Combine(_daemon.Root, "latin1.json");
        await File.WriteAllBytesAsync(latin1, [.. Encoding.ASCII.GetBytes("""{"name":"caf"""), 0xe9, .. Encoding.ASCII.GetBytes("\"}")]);
        AssertRefusedInOneLine(await _daemon.CliAsync("define", latin1), $"FILE: {latin1} is not UTF-8 text");
        Assert.Empty((await _daemon.CliAsync("list", "--json")).Json().EnumerateArray());
    }

    [Fact]
    public async Task Define_HundredsOfThousandsOfNicsUnderTheSizeLimit_RefusedByTheDaemonWhichStaysSmall()
    {
        var before = DaemonRssKiB();
        var count = (DefinitionLimits.MaxDocumentBytes - 100) / 3;
        var file = Path.Combine(_daemon.Root, "nics.json");
        await File.WriteAllTextAsync(file, $$"""{"name":"many","kernel":"/k","nics":[{{string.Join(",", Enumerable.Repeat("{}", count))}}]}""");
        var define = await _daemon.CliAsync("define", file);
        AssertRefusedInOneLine(define, $"nics: {count} entries; at most 30");
        var after = DaemonRssKiB();
        output.WriteLine($"daemon RSS {before} -> {after} KiB");
        // Before the limit this document was accepted and stored with a generated MAC per NIC (~34 MB on disk).
        Assert.True(after - before < 48 * 1024, $"daemon RSS grew {after - before} KiB");
        Assert.Empty((await _daemon.CliAsync("list", "--json")).Json().EnumerateArray());
    }

    [Fact]
    public async Task Define_KernelIsADirectoryOrKeyGivenTwice_RefusedNamingTheField()
    {
        var file = Path.Combine(_daemon.Root, "dir.json");
        await File.WriteAllTextAsync(file, $$"""{"name":"dir","kernel":"{{_daemon.Root}}","initrd":"{{TestGuest.Initrd}}"}""");
        AssertRefusedInOneLine(await _daemon.CliAsync("define", file), $"kernel: {_daemon.Root} is a directory, not a file");

        await File.WriteAllTextAsync(file, $$"""{"name":"one","kernel":"{{TestGuest.Kernel}}","name":"two"}""");
        AssertRefusedInOneLine(await _daemon.CliAsync("define", file), "name: duplicate key 'name' (2 times)");
        Assert.Empty((await _daemon.CliAsync("list", "--json")).Json().EnumerateArray());
    }

    [Fact]
    public async Task Upgrade_SameNameTwice_OneJobThatCompletes()
    {
        var console = await _daemon.BootGuestAsync("twice", patternMiB: 8);
        var pid = Assert.Single(_daemon.QemuProcesses());
        var upgrade = await _daemon.CliAsync("upgrade", "twice", "twice", "--json");
        Assert.True(upgrade.ExitCode == 0, upgrade.ToString());
        var summary = JsonDocument.Parse(upgrade.Stdout).RootElement;
        Assert.Equal(1, summary.GetProperty("upgraded").GetInt32());
        Assert.Equal(0, summary.GetProperty("failed").GetInt32());
        var job = Assert.Single(summary.GetProperty("jobs").EnumerateArray());
        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.NotEqual(pid, Assert.Single(_daemon.QemuProcesses()));
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    [Fact]
    public async Task Undefine_StoppedDomain_RemovesItsConsoleLogSoANewDomainOfThatNameStartsClean()
    {
        await _daemon.BootGuestAsync("gone", patternMiB: 8);
        var log = Path.Combine(_daemon.StateDirectory, "console", "gone.log");
        Assert.True(new FileInfo(log).Length > 0);
        Assert.Equal(0, (await _daemon.CliAsync("stop", "gone", "--force")).ExitCode);
        var undefine = await _daemon.CliAsync("undefine", "gone");
        Assert.True(undefine.ExitCode == 0, undefine.ToString());
        Assert.False(File.Exists(log), $"{log} is still there after undefine");
        Assert.Empty(Directory.GetFiles(Path.Combine(_daemon.StateDirectory, "domains")));
    }
}
