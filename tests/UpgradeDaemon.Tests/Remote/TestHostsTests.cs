using System.Diagnostics;
using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>
/// The multi-host test infrastructure itself: two namespaces on a bridge, each with its own daemon and sshd. In the
/// real-QEMU collection because one test boots a guest, and two daemons per test are load enough on 2 cores.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class TestHostsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestHosts _hosts = null!;

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        _hosts = await TestHosts.StartAsync(output);
        output.WriteLine($"2 hosts with daemons and sshd up in {clock.ElapsedMilliseconds} ms");
    }

    public async Task DisposeAsync()
    {
        var namespaces = _hosts.Hosts.Select(h => h.Network.Namespace).ToList();
        var clock = Stopwatch.StartNew();
        await _hosts.DisposeAsync();
        output.WriteLine($"2 hosts torn down in {clock.ElapsedMilliseconds} ms");
        foreach (var name in namespaces)
            Assert.False(File.Exists(Path.Combine(NetworkNamespaces.Directory, name)), $"namespace {name} left behind");
        Assert.False(Directory.Exists(_hosts.Network.Directory));
    }

    private static Task<CommandResult> PingAsync(TestHost from, TestHost to) => PingAsync(from.Network, to.Network);

    private static Task<CommandResult> PingAsync(NetworkHost from, NetworkHost to) => from.RunAsync("ping", "-c", "1", "-W", "2", to.Address);

    [Fact]
    public async Task CutLink_TwoHosts_PingWorksThenNotThenAgainAfterRestore()
    {
        Assert.Equal(0, (await PingAsync(_hosts.A, _hosts.B)).ExitCode);
        Assert.Equal(0, (await PingAsync(_hosts.B, _hosts.A)).ExitCode);

        await _hosts.CutLinkAsync(_hosts.B);
        Assert.NotEqual(0, (await PingAsync(_hosts.A, _hosts.B)).ExitCode);
        Assert.NotEqual(0, (await PingAsync(_hosts.B, _hosts.A)).ExitCode);

        await _hosts.RestoreLinkAsync(_hosts.B);
        Assert.Equal(0, (await PingAsync(_hosts.A, _hosts.B)).ExitCode);
        Assert.Equal(0, (await PingAsync(_hosts.B, _hosts.A)).ExitCode);
    }

    [Fact]
    public async Task StartAsync_EachHost_OwnDaemonInsideItsNamespaceAnswersList()
    {
        // A definition on A only: the two daemons share no state.
        var file = Path.Combine(_hosts.A.Daemon.Root, "only-on-a.json");
        await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition("only-on-a"));
        Assert.Equal(0, (await _hosts.A.Daemon.CliAsync("define", file)).ExitCode);

        var onA = await _hosts.A.Daemon.CliAsync("list");
        var onB = await _hosts.B.Daemon.CliAsync("list");
        Assert.True(onA.ExitCode == 0, onA.ToString());
        Assert.True(onB.ExitCode == 0, onB.ToString());
        Assert.Contains("only-on-a", onA.Stdout);
        Assert.DoesNotContain("only-on-a", onB.Stdout);

        var outside = new FileInfo("/proc/self/ns/net").LinkTarget;
        foreach (var host in _hosts.Hosts)
        {
            var inside = await host.Network.NamespaceIdentityAsync();
            Assert.NotEqual(outside, inside);
            Assert.Equal(inside, new FileInfo($"/proc/{host.Daemon.Pid}/ns/net").LinkTarget);
        }
    }

    [Fact]
    public async Task BootGuestAsync_OnHostB_QemuRunsInsideBsNamespace()
    {
        await _hosts.B.Daemon.BootGuestAsync("guest-on-b");

        var qemu = Assert.Single(_hosts.B.Daemon.QemuProcesses());
        Assert.Equal(await _hosts.B.Network.NamespaceIdentityAsync(), new FileInfo($"/proc/{qemu}/ns/net").LinkTarget);
        Assert.Empty(_hosts.A.Daemon.QemuProcesses());
    }

    [Fact]
    public async Task SshAsync_FromInsideA_ReachesBAndItsDaemon()
    {
        var file = Path.Combine(_hosts.B.Daemon.Root, "only-on-b.json");
        await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition("only-on-b"));
        Assert.Equal(0, (await _hosts.B.Daemon.CliAsync("define", file)).ExitCode);

        var bus = await _hosts.SshAsync(_hosts.A, _hosts.B, "echo $LOCALMIGRATE_BUS");
        Assert.True(bus.ExitCode == 0, bus.ToString());
        Assert.Equal(_hosts.B.Daemon.Bus.Address, bus.Stdout.Trim());
        // The CLI run by the ssh session finds B's daemon through that variable alone.
        var list = await _hosts.SshAsync(_hosts.A, _hosts.B, Path.Combine(AppContext.BaseDirectory, "localmigrate") + " list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("only-on-b", list.Stdout);
        Assert.Contains($"Accepted publickey for root from {_hosts.A.Address}", _hosts.B.Ssh.Log);

        // The daemons' configured ssh command is the same client: a plain shell split of it reaches B too.
        var configured = await _hosts.A.Network.RunAsync("sh", "-c", $"{_hosts.Ssh.Command} {_hosts.B.SshDestination} hostname -I");
        Assert.True(configured.ExitCode == 0, configured.ToString());
        Assert.Contains(_hosts.B.Address, configured.Stdout);
    }

    [Fact]
    public async Task SshAsync_WrongKeyOrUnknownHostKey_RefusedWithoutPrompt()
    {
        var wrongKey = Path.Combine(_hosts.Network.Directory, "wrong_ed25519");
        await SshKeys.GenerateAsync(wrongKey, "wrong");
        var options = _hosts.Ssh.Options.ToList();
        options[options.IndexOf("-i") + 1] = wrongKey;
        var clock = Stopwatch.StartNew();
        var refused = await _hosts.A.Network.RunAsync("ssh", [.. options, _hosts.B.SshDestination, "true"]);
        output.WriteLine($"wrong key refused in {clock.ElapsedMilliseconds} ms: {refused}");
        Assert.Equal(255, refused.ExitCode);
        Assert.Contains("Permission denied (publickey)", refused.Stderr);

        // A host whose key is not in known_hosts is refused before any login: StrictHostKeyChecking, no question asked.
        options = _hosts.Ssh.Options.ToList();
        var emptyKnownHosts = Path.Combine(_hosts.Network.Directory, "empty_known_hosts");
        await File.WriteAllTextAsync(emptyKnownHosts, "");
        options[options.IndexOf($"UserKnownHostsFile={_hosts.Ssh.KnownHostsFile}")] = $"UserKnownHostsFile={emptyKnownHosts}";
        var unknown = await _hosts.A.Network.RunAsync("ssh", [.. options, _hosts.B.SshDestination, "true"]);
        Assert.Equal(255, unknown.ExitCode);
        Assert.Contains("Host key verification failed", unknown.Stderr);
    }

    [Fact]
    public async Task TcpThroughput_AToB_EveryByteArrives()
    {
        const long bytes = 1L << 30;
        var result = await TcpThroughput.MeasureAsync(_hosts.A.Network, _hosts.B.Network, bytes);
        output.WriteLine($"veth TCP A -> B: {result.BytesReceived} bytes in {result.Elapsed.TotalMilliseconds:0} ms = {result.MiBPerSecond:0} MiB/s");
        Assert.Equal(bytes, result.BytesReceived);
    }

    [Fact]
    public async Task SweepLeftoversAsync_NetworkOfDeadProcess_RemovedWithItsProcessesLiveOnesKept()
    {
        await using var crashed = await TestNetwork.CreateAsync();
        var host = await crashed.AddHostAsync("x");
        // Our pid with a start time it never had: the identity of a test process that is gone.
        await File.WriteAllTextAsync(crashed.OwnerFile, $"{Environment.ProcessId} 1");
        var start = new ProcessStartInfo("ip");
        foreach (var a in host.Exec.Skip(1).Concat(["sleep", "600"]))
            start.ArgumentList.Add(a);
        using var orphan = Process.Start(start)!;
        // Until ip has joined the namespace, the orphan is not in it yet and a sweep would not see it.
        var inside = await host.NamespaceIdentityAsync();
        await Poll.UntilAsync(() => new FileInfo($"/proc/{orphan.Id}/ns/net").LinkTarget == inside && ProcFs.ReadCommandLine(orphan.Id)[0] == "sleep",
            TimeSpan.FromSeconds(30), "the orphan running inside the namespace");

        await TestNetwork.SweepLeftoversAsync();

        await orphan.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(Path.Combine(NetworkNamespaces.Directory, host.Namespace)));
        Assert.False(Directory.Exists(crashed.Directory));
        foreach (var live in _hosts.Hosts)
            Assert.True(File.Exists(Path.Combine(NetworkNamespaces.Directory, live.Network.Namespace)), $"{live.Network.Namespace} was swept");
        Assert.Equal(0, (await PingAsync(_hosts.A, _hosts.B)).ExitCode);
    }

    [Fact]
    public async Task CutLinkAsync_ThreeHosts_OnlyTheCutHostIsUnreachable()
    {
        await using var network = await TestNetwork.CreateAsync();
        var a = await network.AddHostAsync("a");
        var b = await network.AddHostAsync("b");
        var c = await network.AddHostAsync("c");

        await network.CutLinkAsync(b);

        Assert.Equal(0, (await PingAsync(a, c)).ExitCode);
        Assert.Equal(0, (await PingAsync(c, a)).ExitCode);
        Assert.NotEqual(0, (await PingAsync(a, b)).ExitCode);
        Assert.NotEqual(0, (await PingAsync(c, b)).ExitCode);
    }

    [Fact]
    public async Task CutLinkAsync_OpenTcpConnection_StallsThenResumesAfterRestore()
    {
        // What a migration stream sees when the link is cut: no error, its bytes just stop until the link is back.
        var received = Path.Combine(_hosts.Network.Directory, "received");
        var receiver = _hosts.B.Network.RunAsync("socat", "-u", $"TCP-LISTEN:5002,bind={_hosts.B.Address},reuseaddr", $"OPEN:{received},creat");
        var start = new ProcessStartInfo("ip") { RedirectStandardInput = true };
        foreach (var a in _hosts.A.Network.Exec.Skip(1).Concat(["socat", "-u", "STDIN", $"TCP:{_hosts.B.Address}:5002,retry=100,interval=0.1"]))
            start.ArgumentList.Add(a);
        using var sender = Process.Start(start)!;
        string Received() => File.Exists(received) ? File.ReadAllText(received) : "";

        await sender.StandardInput.WriteLineAsync("before");
        await sender.StandardInput.FlushAsync();
        await Poll.UntilAsync(() => Received().Contains("before"), TimeSpan.FromSeconds(30), "the first line across the link");

        await _hosts.CutLinkAsync(_hosts.B);
        await sender.StandardInput.WriteLineAsync("during");
        await sender.StandardInput.FlushAsync();
        // The failed ping (2 s) is the time the line had to cross, had the link been up.
        Assert.NotEqual(0, (await PingAsync(_hosts.A, _hosts.B)).ExitCode);
        Assert.DoesNotContain("during", Received());
        Assert.False(sender.HasExited, "the sender failed instead of stalling");

        await _hosts.RestoreLinkAsync(_hosts.B);
        // TCP retransmits with backoff: the stalled line arrives at the next retransmission, within seconds.
        await Poll.UntilAsync(() => Received().Contains("during"), TimeSpan.FromSeconds(60), "the stalled line after the restore");
        sender.StandardInput.Close();
        Assert.Equal(0, (await receiver).ExitCode);
        Assert.Equal("before\nduring\n", Received());
    }
}
