using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>
/// Two or three hosts (<see cref="A"/>, <see cref="B"/>, <see cref="C"/>) on one private <see cref="TestNetwork"/>,
/// each with its own daemon and sshd, and one ssh client identity that every host's sshd accepts and whose
/// known_hosts lists every host. Each daemon's <c>remote.sshCommand</c> is that client, so a daemon migrating to
/// <c>B.SshUri</c> runs ssh (inside its own namespace) with the fixture's key, BatchMode and strict host keys; its
/// <c>remote.sshBridgeCommand</c> names this build's CLI by absolute path (it is on no PATH).
/// </summary>
internal sealed class TestHosts : IAsyncDisposable
{
    private readonly List<TestHost> _hosts = [];

    private TestHosts(TestNetwork network, SshClientIdentity ssh)
    {
        Network = network;
        Ssh = ssh;
    }

    public TestNetwork Network { get; }

    public SshClientIdentity Ssh { get; }

    public IReadOnlyList<TestHost> Hosts => _hosts;

    public TestHost A => _hosts[0];

    public TestHost B => _hosts[1];

    public TestHost C => _hosts[2];

    /// <summary>The CLI's peer bridge as an ssh session on a test host runs it.</summary>
    public static string SshBridgeCommand => Path.Combine(AppContext.BaseDirectory, "localmigrate") + " peer-bridge";

    /// <param name="count">Hosts to make, labelled a, b, c, ...</param>
    /// <param name="configOverrides">Per host label, JSON merged into that daemon's config after the fixture's own
    /// <c>remote</c> defaults, e.g. <c>{"remote": {"tcpPort": 16510, "allowInsecureTcp": true}}</c>; null for none.</param>
    /// <param name="launchers">Per host label, a command between <c>ip netns exec NS</c> and the daemon (it must exec), e.g. a
    /// <c>sh -c 'mount ... &amp;&amp; exec "$@"' sh</c> that gives that host its own image directory; null for none.</param>
    public static async Task<TestHosts> StartAsync(ITestOutputHelper output, int count = 2, Func<string, string?>? configOverrides = null,
        Func<string, IReadOnlyList<string>?>? launchers = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var network = await TestNetwork.CreateAsync();
        TestHosts? hosts = null;
        try
        {
            hosts = new TestHosts(network, await SshClientIdentity.CreateAsync(network.Directory));
            var authorizedKeys = Path.Combine(network.Directory, "authorized_keys");
            await File.WriteAllTextAsync(authorizedKeys, hosts.Ssh.PublicKey + "\n");
            var networkHosts = new List<NetworkHost>();
            for (var i = 0; i < count; i++)
                networkHosts.Add(await network.AddHostAsync(((char)('a' + i)).ToString()));
            var networkReady = clock.Elapsed;
            // Daemons and sshds come up in parallel: each daemon's start is mostly .NET start-up, and they don't share anything.
            var started = networkHosts.Select(async h =>
            {
                var config = new JsonObject { ["remote"] = new JsonObject { ["sshCommand"] = hosts.Ssh.Command, ["sshBridgeCommand"] = SshBridgeCommand } };
                if (configOverrides?.Invoke(h.Label) is { } extra)
                    DaemonProcess.MergeJson(config, JsonNode.Parse(extra)!.AsObject());
                var host = await TestHost.StartAsync(output, h, Path.Combine(network.Directory, h.Label), authorizedKeys, config.ToJsonString(),
                    launchers?.Invoke(h.Label));
                hosts.Ssh.TrustHost(h.Address, host.Ssh.HostPublicKey);
                return host;
            }).ToList();
            try
            {
                await Task.WhenAll(started);
            }
            finally
            {
                // Keep every host that came up, in order, so Dispose stops it even when another failed.
                hosts._hosts.AddRange(started.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }
            // The cost of a fixture, for deciding between one per test and one per class.
            output.WriteLine($"test hosts: network with {count} hosts in {networkReady.TotalMilliseconds:0} ms, "
                + $"then keys, sshd and daemons in {(clock.Elapsed - networkReady).TotalMilliseconds:0} ms");
            return hosts;
        }
        catch
        {
            if (hosts is not null)
                await hosts.DisposeAsync();
            else
                await network.DisposeAsync();
            throw;
        }
    }

    public Task CutLinkAsync(TestHost host) => Network.CutLinkAsync(host.Network);

    public Task ThrottleLinkAsync(TestHost host, int megabitsPerSecond) => Network.ThrottleLinkAsync(host.Network, megabitsPerSecond);

    public Task RestoreLinkAsync(TestHost host) => Network.RestoreLinkAsync(host.Network);

    /// <summary>Runs <c>ssh</c> inside <paramref name="from"/>'s namespace (where its daemon would run it) to
    /// <paramref name="to"/> with the fixture's client identity. <c>-n</c>: the remote command reads no input, and
    /// ssh must not wait on the test runner's stdin.</summary>
    public Task<CommandResult> SshAsync(TestHost from, TestHost to, string remoteCommand) =>
        from.Network.RunAsync("ssh", ["-n", .. Ssh.Options, to.SshDestination, remoteCommand]);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
            await host.DisposeAsync();
        await Network.DisposeAsync();
    }
}
