using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>
/// One host of the multi-host tests: a network namespace with a real <c>localmigrated</c> running inside it (so every
/// QEMU it starts lives there too), with its own bus, state and runtime directories, and an sshd whose sessions
/// reach that daemon. The bus socket is a path on the shared filesystem: the CLI and the tests talk to the daemon
/// from outside the namespace through <see cref="Daemon"/>.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(NetworkHost network, DaemonProcess daemon)
    {
        Network = network;
        Daemon = daemon;
    }

    public NetworkHost Network { get; }

    public DaemonProcess Daemon { get; }

    public SshServer Ssh { get; private set; } = null!;

    public string Label => Network.Label;

    /// <summary>The host's IP address on the test network.</summary>
    public string Address => Network.Address;

    /// <summary><c>root@ADDRESS</c>, the ssh destination.</summary>
    public string SshDestination => $"root@{Address}";

    /// <summary>The URI a source daemon migrates to over ssh.</summary>
    public string SshUri => $"ssh://{SshDestination}";

    /// <summary>The port of the TLS listener <see cref="RestartWithTlsAsync"/> turns on.</summary>
    public const int TlsPort = 16515;

    /// <summary>The plaintext listener's port, with allowInsecureTcp.</summary>
    public const int TcpPort = 16510;

    public string TlsUri => $"tls://{Address}";

    /// <summary>
    /// Restarts the daemon with a TLS listener on <see cref="TlsPort"/> and the certificates of <paramref name="pkiDirectory"/>
    /// (a <see cref="TestPki"/>: the addresses are known only once the hosts exist, so the certificates follow them), the
    /// allowed client DN of TestPki, and optionally plaintext TCP on <see cref="TcpPort"/>.
    /// </summary>
    public async Task RestartWithTlsAsync(string pkiDirectory, bool allowTcp = false)
    {
        await Daemon.KillAsync();
        var config = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Daemon.ConfigFile))!.AsObject();
        (config["remote"] as System.Text.Json.Nodes.JsonObject)?.Remove("tcpPort");
        DaemonProcess.MergeJson(config, System.Text.Json.Nodes.JsonNode.Parse($$"""
            { "remote": { "tlsPort": {{TlsPort}}, "pkiDirectory": "{{pkiDirectory}}", "allowedClientDns": ["{{TestPki.AllowedClientDn}}"],
                          "allowInsecureTcp": {{(allowTcp ? "true" : "false")}} {{(allowTcp ? $", \"tcpPort\": {TcpPort}" : "")}} } }
            """)!.AsObject());
        await File.WriteAllTextAsync(Daemon.ConfigFile, config.ToJsonString());
        await Daemon.StartAsync();
    }

    /// <param name="configOverrides">JSON merged into the daemon's default test config.</param>
    /// <param name="launcher">Runs between the namespace's <c>ip netns exec</c> and the daemon; null for nothing.</param>
    public static async Task<TestHost> StartAsync(ITestOutputHelper output, NetworkHost network, string directory, string authorizedKeysFile,
        string configOverrides, IReadOnlyList<string>? launcher = null)
    {
        var daemon = new DaemonProcess(new PrefixedTestOutput(output, $"host {network.Label}: "), configOverrides: configOverrides,
            launcher: [.. network.Exec, .. launcher ?? []]);
        var host = new TestHost(network, daemon);
        try
        {
            host.Ssh = await SshServer.StartAsync(network, directory, authorizedKeysFile,
                new Dictionary<string, string> { ["LOCALMIGRATE_BUS"] = daemon.Bus.Address });
            await daemon.StartAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await Daemon.DisposeAsync();
        if (Ssh is not null)
            await Ssh.DisposeAsync();
    }
}
