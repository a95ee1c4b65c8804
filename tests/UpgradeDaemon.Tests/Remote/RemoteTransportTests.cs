using System.Text.Json;
using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>
/// The tls:// and tcp:// transports between two namespace hosts, and the option set across hosts: every daemon has a TLS
/// listener (a test CA, the allowed client DN of <see cref="TestPki"/>) and a plaintext one (allowInsecureTcp).
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class RemoteTransportTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestHosts _hosts = null!;
    private TestPki _pki = null!;

    private TestHost A => _hosts.A;
    private TestHost B => _hosts.B;

    public async Task InitializeAsync()
    {
        _hosts = await TestHosts.StartAsync(output, 2, _ => """{ "remote": { "incomingLeaseSeconds": 15 } }""");
        _pki = TestPki.Create(A.Address, B.Address);
        await ReconfigureAsync(A, _pki.HostDirectory);
        await ReconfigureAsync(B, _pki.HostDirectory);
    }

    public async Task DisposeAsync()
    {
        await _hosts.DisposeAsync();
        _pki.Dispose();
    }

    private static Task ReconfigureAsync(TestHost host, string pkiDirectory, bool allowTcp = true) => host.RestartWithTlsAsync(pkiDirectory, allowTcp);

    [Fact]
    public async Task Migrate_OverTlsToBAndBack_StreamUsesX509OnBothSidesAndTheGuestContinues()
    {
        var consoleA = await A.Daemon.BootGuestAsync("tlsvm", 256, "private", patternMiB: 32);
        var before = consoleA.LastTick()!;

        var there = await MigrateAsync(A, "tlsvm", $"tls://{B.Address}");

        Assert.Equal("lm-migration-tls", there.GetProperty("source").GetProperty("parameters").GetProperty("tls-creds").GetString());
        Assert.Equal(B.Address, there.GetProperty("source").GetProperty("parameters").GetProperty("tls-hostname").GetString());
        Assert.Equal("lm-migration-tls", there.GetProperty("target").GetProperty("parameters").GetProperty("tls-creds").GetString());
        Assert.Equal("lm-migration-authz", there.GetProperty("target").GetProperty("parameters").GetProperty("tls-authz").GetString());
        var arrived = await B.Daemon.Console("tlsvm").WaitForTicksAsync(before.Counter, 20, TimeSpan.FromSeconds(60));
        Assert.Equal(before.BootId, arrived.BootId);
        Assert.Empty(A.Daemon.QemuProcesses());

        await MigrateAsync(B, "tlsvm", $"qemu+tls://{A.Address}/system");
        var home = await consoleA.WaitForTicksAsync(arrived.Counter, 20, TimeSpan.FromSeconds(60));
        Assert.Equal(before.BootId, home.BootId);
        Assert.Empty(B.Daemon.QemuProcesses());
        await consoleA.WaitForPatternPassesAsync(consoleA.PatternPasses() + 1, TimeSpan.FromSeconds(90));
        Assert.Empty(consoleA.Corruptions());
    }

    [Theory]
    [InlineData("rogue")]
    [InlineData("other-ca")]
    [InlineData("no-client")]
    public async Task Migrate_OverTlsWithACertificateBNeverAllowed_RefusedAndTheSourceRunsOn(string which)
    {
        var directory = which switch
        {
            "rogue" => _pki.RogueClientDirectory,
            "other-ca" => _pki.OtherCaDirectory,
            _ => _pki.NoClientCertificateDirectory,
        };
        if (which != "other-ca")
        {
            // The rogue and no-client directories hold only the CA and a client end: the server end of A stays valid.
            foreach (var f in new[] { "server-cert.pem", "server-key.pem" })
                File.Copy(Path.Combine(_pki.HostDirectory, f), Path.Combine(directory, f), overwrite: true);
        }
        await ReconfigureAsync(A, directory);
        var console = await A.Daemon.BootGuestAsync("denied", 256, "shared", patternMiB: 16);

        var refused = await A.Daemon.CliAsync("migrate", "denied", "--to", $"tls://{B.Address}");

        output.WriteLine(refused.Stderr);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"tls://{B.Address} unreachable", refused.Stderr);
        Assert.Empty(B.Daemon.QemuProcesses());
        Assert.Single(A.Daemon.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Migrate_OverTcpWithMultifdAndZstd_BothQemusHoldTheSettingsAndTheGuestContinues()
    {
        var console = await A.Daemon.BootGuestAsync("multi", 256, "private", patternMiB: 32);
        var before = console.LastTick()!;

        var job = await MigrateAsync(A, "multi", $"tcp://{B.Address}", "--parallel-connections", "2", "--compressed", "--comp-methods", "mt",
            "--max-downtime", "200", "--max-bandwidth-mib", "512");

        foreach (var side in new[] { "source", "target" })
        {
            var settings = job.GetProperty(side);
            Assert.Contains("multifd", settings.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal("2", settings.GetProperty("parameters").GetProperty("multifd-channels").GetString());
            Assert.Equal("zstd", settings.GetProperty("parameters").GetProperty("multifd-compression").GetString());
            Assert.Equal("", settings.GetProperty("parameters").GetProperty("tls-creds").GetString());
        }
        Assert.Equal("200", job.GetProperty("source").GetProperty("parameters").GetProperty("downtime-limit").GetString());
        Assert.Equal((512L << 20).ToString(), job.GetProperty("source").GetProperty("parameters").GetProperty("max-bandwidth").GetString());
        var arrived = await B.Daemon.Console("multi").WaitForTicksAsync(before.Counter, 20, TimeSpan.FromSeconds(60));
        Assert.Equal(before.BootId, arrived.BootId);
        await B.Daemon.Console("multi").WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        Assert.Empty(B.Daemon.Console("multi").Corruptions());
    }

    [Fact]
    public async Task Migrate_NeverConvergingWithPostcopyPolicy_SwitchesAndTheDestinationRunsTheGuest()
    {
        // QEMU 10.0: three seconds of live copy before the switch, which QEMU 7.2 under TCG (the test accelerator) does not
        // copy faithfully (MigrationTuning.TcgDirtyTrackingFixedIn).
        var console = await A.Daemon.BootGuestAsync("slow", 256, "private", patternMiB: 96, qemu: NewQemu.Path);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        var before = console.LastTick()!;

        // 2 MiB/s of precopy cannot move ~100 MiB before the 3 s deadline: the policy switches to postcopy, the destination
        // commits and resumes the guest at once, and the rest of its RAM follows on demand.
        var job = await MigrateAsync(A, "slow", $"tcp://{B.Address}", "--postcopy", "--max-bandwidth-mib", "2", "--converge-policy", "postcopy",
            "--converge-timeout", "3");

        Assert.Equal("postcopy", job.GetProperty("convergeAction").GetString());
        Assert.Contains("postcopy-ram", job.GetProperty("target").GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        var consoleB = B.Daemon.Console("slow");
        var arrived = await consoleB.WaitForTicksAsync(before.Counter, 30, TimeSpan.FromSeconds(60));
        Assert.Equal(before.BootId, arrived.BootId);
        await consoleB.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        Assert.Empty(consoleB.Corruptions());
        Assert.Empty(A.Daemon.QemuProcesses());
        Assert.False((await ListAsync(A)).ContainsKey("slow"));
        Assert.Equal("running", (await ListAsync(B))["slow"]);
    }

    [Fact]
    public async Task Migrate_TcpWhereThisHostDoesNotAllowIt_RefusedNamingTheSetting()
    {
        await ReconfigureAsync(A, _pki.HostDirectory, allowTcp: false);
        await A.Daemon.BootGuestAsync("plain", 256, "shared", patternMiB: 16);

        var refused = await A.Daemon.CliAsync("migrate", "plain", "--to", $"tcp://{B.Address}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("allowInsecureTcp", refused.Stderr);
        Assert.Single(A.Daemon.QemuProcesses());
    }

    [Fact]
    public async Task Migrate_OfflineThenKeepSourceThenNotPersistent_EachHostListsWhatTheOptionsSay()
    {
        var file = Path.Combine(A.Daemon.Root, "cold.json");
        await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition("cold", 256));
        Assert.Equal(0, (await A.Daemon.CliAsync("define", file)).ExitCode);

        // Offline: the shut-off domain's definition moves; nothing runs anywhere.
        var offline = await MigrateAsync(A, "cold", $"tcp://{B.Address}", "--offline");
        output.WriteLine(offline.ToString());
        Assert.False((await ListAsync(A)).ContainsKey("cold"));
        Assert.Equal("shutoff", (await ListAsync(B))["cold"]);
        Assert.Empty(B.Daemon.QemuProcesses());

        // Keep source: B boots it, sends it back live, and keeps a stopped copy of the definition.
        Assert.Equal(0, (await B.Daemon.CliAsync("start", "cold")).ExitCode);
        await B.Daemon.Console("cold").WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(60));
        await MigrateAsync(B, "cold", $"tcp://{A.Address}", "--keep-source");
        Assert.Equal("running", (await ListAsync(A))["cold"]);
        Assert.Equal("shutoff", (await ListAsync(B))["cold"]);
        Assert.Empty(B.Daemon.QemuProcesses());

        // Not persistent: B runs it without storing a definition; the stopped copy B kept is the same domain (same uuid), so
        // it is the one that runs, and what B stores stays as it was.
        await MigrateAsync(A, "cold", $"tcp://{B.Address}", "--no-persistent");
        Assert.Equal("running", (await ListAsync(B))["cold"]);
        Assert.False((await ListAsync(A)).ContainsKey("cold"));
    }

    [Fact]
    public async Task Migrate_NotPersistentToAHostThatNeverHadIt_GoneThereOnceItStops()
    {
        await A.Daemon.BootGuestAsync("passing", 256, "shared", patternMiB: 16);

        await MigrateAsync(A, "passing", $"tcp://{B.Address}", "--no-persistent");

        Assert.Equal("running", (await ListAsync(B))["passing"]);
        Assert.Empty(Directory.Exists(Path.Combine(B.Daemon.StateDirectory, "domains"))
            ? Directory.GetFiles(Path.Combine(B.Daemon.StateDirectory, "domains"))
            : []);
        Assert.Equal(0, (await B.Daemon.CliAsync("stop", "passing", "--force")).ExitCode);
        Assert.False((await ListAsync(B)).ContainsKey("passing"));
    }

    private async Task<JsonElement> MigrateAsync(TestHost from, string name, string uri, params string[] options)
    {
        var result = await from.Daemon.CliAsync(["migrate", name, "--to", uri, "--json", .. options]);
        var job = result.Json();
        Assert.True(job.GetProperty("state").GetString() == "completed", result.ToString());
        output.WriteLine($"{from.Label} -> {uri}: downtime {job.GetProperty("downtimeMs")} ms, total {job.GetProperty("totalMs")} ms");
        return job;
    }

    private static async Task<Dictionary<string, string>> ListAsync(TestHost host)
    {
        var list = (await host.Daemon.CliAsync("list", "--json")).Json();
        return list.EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("state").GetString()!);
    }
}
