using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Network;

/// <summary>
/// Bridged tap NICs with the real test guest (virtio-net, an address on the host's bridge, TCP echo on port 7). Two hosts
/// (network namespaces, each with its daemon and sshd): each gets a bridge <see cref="Bridge"/> holding its eth0 and its
/// address, so the two bridges are joined through the test network's switch. Traffic comes from host A's namespace.
/// Every test ends by checking which taps exist on which host: a tap exactly while a QEMU of its domain runs there.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class BridgedNicTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Bridge = "lmbr0";
    private const string LeaseConfig = """{ "remote": { "incomingLeaseSeconds": 15 } }""";

    private TestHosts _hosts = null!;

    private TestHost A => _hosts.A;
    private TestHost B => _hosts.B;

    /// <summary>The guest's address on the test network: .100 of its /24.</summary>
    private string GuestAddress => string.Join('.', A.Address.Split('.')[..3]) + ".100";

    public async Task InitializeAsync()
    {
        _hosts = await TestHosts.StartAsync(output, 2, _ => LeaseConfig);
        foreach (var host in _hosts.Hosts)
            await BridgeEth0Async(host.Network);
    }

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    [Fact]
    public async Task Start_BridgedNic_TapJoinsTheBridgeWithItsMtuAndGoesWithEveryStop()
    {
        await NetworkNamespaces.IpAsync("-n", A.Network.Namespace, "link", "set", Bridge, "mtu", "1400");
        var console = await BootAsync(A, "tapvm");
        var tap = TapName.For("tapvm", 0);

        var taps = await TapsAsync(A);
        Assert.Equal(new[] { tap }, taps.Keys);
        Assert.Equal(Bridge, taps[tap].Master);
        Assert.Equal(1400, taps[tap].Mtu);
        Assert.True(taps[tap].Up, $"{tap} is not up");
        Assert.Equal($"net0 tap {tap} bridge {Bridge} vhost {(File.Exists(NicBackends.VhostDevice) ? "on" : "off")}", Assert.Single(await NicsInStatusAsync(A, "tapvm")));
        var ping = await A.Network.RunAsync("ping", "-c", "3", "-i", "0.2", "-W", "5", GuestAddress);
        Assert.True(ping.ExitCode == 0, ping.ToString());

        // A QEMU that dies takes its tap with it: the kernel deletes a non-persistent tap with its last open file.
        Interop.Posix.Signals.Kill(Interop.Posix.ProcFs.TryReadIdentity(Assert.Single(A.Daemon.QemuProcesses()))!);
        await Poll.UntilAsync(async () => (await TapsAsync(A)).Count == 0, TimeSpan.FromSeconds(30), "the tap gone after QEMU was killed");

        var restart = await A.Daemon.CliAsync("start", "tapvm");
        Assert.True(restart.ExitCode == 0, restart.ToString());
        Assert.Equal(new[] { tap }, (await TapsAsync(A)).Keys);
        await console.WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(90));
        var stop = await A.Daemon.CliAsync("stop", "tapvm", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Empty(await TapsAsync(A));
        var undefine = await A.Daemon.CliAsync("undefine", "tapvm");
        Assert.True(undefine.ExitCode == 0, undefine.ToString());
        Assert.Empty(await TapsAsync(A));
    }

    [Fact]
    public async Task Migrate_OperatorsTapLocally_TheSameTapServesBothAndOutlivesTheDomain()
    {
        // The operator's tap: persistent, on the bridge, managed outside the daemon.
        await NetworkNamespaces.IpAsync("-n", A.Network.Namespace, "tuntap", "add", "mode", "tap", "name", "optap0", "vnet_hdr");
        await NetworkNamespaces.IpAsync("-n", A.Network.Namespace, "link", "set", "optap0", "master", Bridge, "up");
        var index = (await TapsAsync(A))["optap0"].Index;
        var console = await BootAsync(A, "opvm", nic: new JsonObject { ["type"] = "tap", ["tap"] = "optap0", ["mac"] = "52:54:00:4c:4d:03" });
        Assert.Equal("net0 tap optap0 vhost " + (File.Exists(NicBackends.VhostDevice) ? "on" : "off"), Assert.Single(await NicsInStatusAsync(A, "opvm")));
        await using var stream = EchoStream.Start(A.Network.Namespace, GuestAddress);
        await stream.WaitForMoreAsync(16 * 1024, TimeSpan.FromSeconds(60));

        var migrate = await A.Daemon.CliAsync("migrate", "opvm", "--json");

        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        await stream.WaitForMoreAsync(16 * 1024, TimeSpan.FromSeconds(60));
        await stream.StopAndVerifyAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(index, (await TapsAsync(A))["optap0"].Index);
        console.AssertContinuous();
        var stop = await A.Daemon.CliAsync("stop", "opvm", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal(new[] { "optap0" }, (await TapsAsync(A)).Keys);
    }

    [Fact]
    public async Task Define_BadNics_EachRefusedNamingTheField()
    {
        var cases = new (JsonObject Nic, string Field, string Says)[]
        {
            (new JsonObject { ["type"] = "bridge", ["bridge"] = "nosuchbr" }, "nics[0].bridge", "no bridge nosuchbr on this host"),
            (new JsonObject { ["type"] = "bridge", ["bridge"] = "eth0" }, "nics[0].bridge", "eth0 is not a bridge"),
            (new JsonObject { ["type"] = "bridge" }, "nics[0].bridge", "required for type bridge"),
            (new JsonObject { ["type"] = "bridge", ["bridge"] = "a-bridge-name-too-long" }, "nics[0].bridge", "at most 15"),
            (new JsonObject { ["type"] = "bridge", ["bridge"] = Bridge, ["mac"] = "01:00:5e:00:00:01" }, "nics[0].mac", "multicast"),
            (new JsonObject { ["type"] = "bridge", ["bridge"] = Bridge, ["mac"] = "52:54:00:zz:00:01" }, "nics[0].mac", "not a MAC address"),
            (new JsonObject { ["type"] = "tap", ["tap"] = "nosuchtap" }, "nics[0].tap", "no tap nosuchtap on this host"),
            (new JsonObject { ["type"] = "user", ["bridge"] = Bridge }, "nics[0].bridge", "only for type bridge"),
        };
        foreach (var (nic, field, says) in cases)
        {
            var file = Path.Combine(A.Daemon.Root, "bad.json");
            var definition = JsonNode.Parse(EngineHarness.GuestDefinition("badnic", 128))!.AsObject();
            definition["nics"] = new JsonArray(nic);
            await File.WriteAllTextAsync(file, definition.ToJsonString());

            var define = await A.Daemon.CliAsync("define", file);

            Assert.True(define.ExitCode != 0, $"{nic.ToJsonString()} was accepted");
            Assert.Contains(field, define.Stderr);
            Assert.Contains(says, define.Stderr);
        }
        Assert.Empty(await TapsAsync(A));
    }

    [Fact]
    public async Task Migrate_LocalTenTimesUnderPingAndTcpStream_SameTapNoByteLostNoReset()
    {
        var console = await BootAsync(A, "netvm");
        var tap = TapName.For("netvm", 0);
        var index = (await TapsAsync(A))[tap].Index;
        await using var stream = EchoStream.Start(A.Network.Namespace, GuestAddress);
        await stream.WaitForMoreAsync(64 * 1024, TimeSpan.FromSeconds(60));

        var lines = new List<string>();
        for (var i = 1; i <= 10; i++)
        {
            if (i == 6)
            {
                // The daemon keeps nothing about taps: after a crash and restart, the next target still takes the running
                // QEMU's tap from the process itself.
                await A.Daemon.KillAsync();
                await A.Daemon.StartAsync();
            }
            stream.TakeLongestStall();
            var ping = PingRun.Start(A.Network.Namespace, GuestAddress);
            var migrate = await A.Daemon.CliAsync("migrate", "netvm", "--json");
            Assert.True(migrate.ExitCode == 0, migrate.ToString());
            await stream.WaitForMoreAsync(32 * 1024, TimeSpan.FromSeconds(60));
            var replies = await ping.StopAsync();
            var stall = stream.TakeLongestStall();
            var job = migrate.Json();
            var line = $"migration {i}: downtime {job.GetProperty("downtimeMs").GetInt64()} ms (QEMU), ICMP {replies.Lost} of {replies.Transmitted} replies lost, " +
                       $"longest TCP stall {stall.TotalMilliseconds:0} ms, {stream.Received} bytes echoed";
            lines.Add(line);
            output.WriteLine(line);

            var taps = await TapsAsync(A);
            Assert.Equal(new[] { tap }, taps.Keys);
            Assert.Equal(index, taps[tap].Index);
            Assert.Equal(Bridge, taps[tap].Master);
            Assert.EndsWith($"(shared with pid {job.GetProperty("sourcePid").GetInt32()})", Assert.Single(await NicsInStatusAsync(A, "netvm")));
            Assert.True(replies.Lost < 100, line);
        }

        await stream.StopAndVerifyAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"stream intact: {stream.Sent} bytes sent, {stream.Received} echoed in order, no reset");
        console.AssertContinuous();
        var stop = await A.Daemon.CliAsync("stop", "netvm", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Empty(await TapsAsync(A));
    }

    [Fact]
    public async Task Cancel_LocalMigration_SourceKeepsItsTapAndTheStreamRuns()
    {
        await BootAsync(A, "stayvm", backing: "private", patternMiB: 96);
        var tap = TapName.For("stayvm", 0);
        var index = (await TapsAsync(A))[tap].Index;
        await using var stream = EchoStream.Start(A.Network.Namespace, GuestAddress);
        await stream.WaitForMoreAsync(16 * 1024, TimeSpan.FromSeconds(60));

        var migrate = A.Daemon.StartCli("migrate", "stayvm", "--max-bandwidth", (4L << 20).ToString(CultureInfo.InvariantCulture));
        await WaitForPerformAsync(A, "stayvm");
        Assert.Single((await TapsAsync(A)).Keys);
        var cancel = await A.Daemon.CliAsync("cancel", "stayvm");
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.NotEqual(0, migrate.ExitCode);
        await Poll.UntilAsync(() => A.Daemon.QemuProcesses().Count == 1, TimeSpan.FromSeconds(30), "the target gone");
        var taps = await TapsAsync(A);
        Assert.Equal(new[] { tap }, taps.Keys);
        Assert.Equal(index, taps[tap].Index);
        await stream.WaitForMoreAsync(16 * 1024, TimeSpan.FromSeconds(60));
        await stream.StopAndVerifyAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Migrate_RemoteToBAndBack_TcpStreamSurvivesAndTheTapFollowsTheGuest()
    {
        var console = await BootAsync(A, "roamvm");
        var tap = TapName.For("roamvm", 0);
        await using var stream = EchoStream.Start(A.Network.Namespace, GuestAddress);
        await stream.WaitForMoreAsync(64 * 1024, TimeSpan.FromSeconds(60));

        foreach (var (from, to) in new[] { (A, B), (B, A) })
        {
            stream.TakeLongestStall();
            var ping = PingRun.Start(A.Network.Namespace, GuestAddress);
            var migrate = await from.Daemon.CliAsync("migrate", "roamvm", "--to", to.SshUri, "--json");
            Assert.True(migrate.ExitCode == 0, migrate.ToString());
            await stream.WaitForMoreAsync(32 * 1024, TimeSpan.FromSeconds(90));
            var replies = await ping.StopAsync();
            output.WriteLine($"{from.Label} -> {to.Label}: downtime {migrate.Json().GetProperty("downtimeMs").GetInt64()} ms (QEMU), " +
                             $"ICMP {replies.Lost} of {replies.Transmitted} replies lost, longest TCP stall {stream.TakeLongestStall().TotalMilliseconds:0} ms");
            var taps = await TapsAsync(to);
            Assert.Equal(new[] { tap }, taps.Keys);
            Assert.Equal(Bridge, taps[tap].Master);
            await Poll.UntilAsync(async () => (await TapsAsync(from)).Count == 0, TimeSpan.FromSeconds(30), $"no tap left on {from.Label}");
        }

        await stream.StopAndVerifyAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"stream intact across both hosts: {stream.Sent} bytes sent, {stream.Received} echoed in order, no reset");
        console.AssertContinuous();
    }

    [Fact]
    public async Task Migrate_RemoteWithoutThatBridgeThere_RefusedNamingItAndNoTapAnywhereNew()
    {
        await NetworkNamespaces.IpAsync("-n", A.Network.Namespace, "link", "add", "lmonly", "type", "bridge");
        await NetworkNamespaces.IpAsync("-n", A.Network.Namespace, "link", "set", "lmonly", "up");
        await BootAsync(A, "homevm", bridge: "lmonly");

        var refused = await A.Daemon.CliAsync("migrate", "homevm", "--to", B.SshUri);

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("nics[0].bridge", refused.Stderr);
        Assert.Contains("no bridge lmonly", refused.Stderr);
        Assert.Empty(await TapsAsync(B));
        Assert.Equal(new[] { TapName.For("homevm", 0) }, (await TapsAsync(A)).Keys);
    }

    [Fact]
    public async Task Cancel_RemoteDuringPerform_TheDestinationsTapGoesAndTheSourceKeepsItsOwn()
    {
        await BootAsync(A, "backvm", backing: "private", patternMiB: 96);
        var tap = TapName.For("backvm", 0);
        var migrate = A.Daemon.StartCli("migrate", "backvm", "--to", B.SshUri, "--max-bandwidth", (4L << 20).ToString(CultureInfo.InvariantCulture));
        await WaitForPerformAsync(A, "backvm");
        Assert.Equal(new[] { tap }, (await TapsAsync(B)).Keys);

        var cancel = await A.Daemon.CliAsync("cancel", "backvm");
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.NotEqual(0, migrate.ExitCode);
        await Poll.UntilAsync(async () => (await TapsAsync(B)).Count == 0, TimeSpan.FromSeconds(60), "no tap left on B");
        Assert.Equal(new[] { tap }, (await TapsAsync(A)).Keys);
        var ping = await A.Network.RunAsync("ping", "-c", "3", "-i", "0.2", "-W", "5", GuestAddress);
        Assert.True(ping.ExitCode == 0, ping.ToString());
    }

    /// <summary>Moves the host's address from eth0 to a new bridge holding eth0: guests on that bridge share the test network.</summary>
    private static async Task BridgeEth0Async(NetworkHost host)
    {
        var ns = host.Namespace;
        await NetworkNamespaces.IpAsync("-n", ns, "link", "add", Bridge, "type", "bridge");
        await NetworkNamespaces.IpAsync("-n", ns, "addr", "del", $"{host.Address}/24", "dev", "eth0");
        await NetworkNamespaces.IpAsync("-n", ns, "link", "set", "eth0", "master", Bridge);
        await NetworkNamespaces.IpAsync("-n", ns, "addr", "add", $"{host.Address}/24", "dev", Bridge);
        await NetworkNamespaces.IpAsync("-n", ns, "link", "set", Bridge, "up");
    }

    private async Task<GuestConsole> BootAsync(TestHost host, string name, string backing = "shared", int patternMiB = 8, string bridge = Bridge,
        JsonObject? nic = null)
    {
        var definition = JsonNode.Parse(EngineHarness.GuestDefinition(name, 256,
            backing == "shared" ? MemoryBacking.Shared : MemoryBacking.Private, patternMiB))!.AsObject();
        definition["cmdline"] = $"{definition["cmdline"]} lm.ip={GuestAddress}/24";
        definition["nics"] = new JsonArray(nic ?? new JsonObject { ["type"] = "bridge", ["bridge"] = bridge, ["mac"] = "52:54:00:4c:4d:01" });
        var file = Path.Combine(host.Daemon.Root, name + ".json");
        await File.WriteAllTextAsync(file, definition.ToJsonString());
        var define = await host.Daemon.CliAsync("define", file);
        Assert.True(define.ExitCode == 0, define.ToString());
        var start = await host.Daemon.CliAsync("start", name);
        Assert.True(start.ExitCode == 0, start.ToString());
        var console = host.Daemon.Console(name);
        await console.WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(120));
        Assert.Contains(console.Lines(), l => l.StartsWith("LMNET eth0", StringComparison.Ordinal));
        return console;
    }

    /// <summary>What <c>localmigrate status NAME --json</c> says of the running instance's NICs.</summary>
    private static async Task<List<string>> NicsInStatusAsync(TestHost host, string name)
    {
        var status = await host.Daemon.CliAsync("status", name, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        return status.Json().GetProperty("nics").EnumerateArray().Select(n => n.GetString()!).ToList();
    }

    private sealed record Tap(int Index, string? Master, int Mtu, bool Up);

    /// <summary>Every tap in the host's namespace, by name (ip -d link: "tun type tap").</summary>
    private static async Task<Dictionary<string, Tap>> TapsAsync(TestHost host)
    {
        var result = await host.Network.RunAsync("ip", "-j", "-d", "link", "show");
        Assert.True(result.ExitCode == 0, result.ToString());
        var taps = new Dictionary<string, Tap>();
        foreach (var link in JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("linkinfo", out var info) || info.GetProperty("info_kind").GetString() != "tun")
                continue;
            taps[link.GetProperty("ifname").GetString()!] = new Tap(link.GetProperty("ifindex").GetInt32(),
                link.TryGetProperty("master", out var master) ? master.GetString() : null, link.GetProperty("mtu").GetInt32(),
                link.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP"));
        }
        return taps;
    }

    private static async Task WaitForPerformAsync(TestHost host, string name) =>
        await Poll.UntilAsync(async () =>
        {
            var jobs = (await host.Daemon.CliAsync("jobs", "--json")).Json();
            return jobs.EnumerateArray().Any(j => j.GetProperty("domain").GetString() == name && j.GetProperty("state").GetString() == "running"
                                                  && j.GetProperty("phase").GetString() == "Perform");
        }, TimeSpan.FromSeconds(90), $"{name}'s job to reach Perform");
}
