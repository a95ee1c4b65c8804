using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>
/// A private network of "hosts" on this machine: one network namespace per host, each with one veth to a bridge.
/// The bridge lives in a namespace of its own (not the root namespace): the fixture then shares nothing with the
/// machine's or another fixture's networking (no root-namespace interface names to collide, no host firewall or
/// bridge-netfilter rules on the path, no route to the outside), and deleting the namespaces removes every link.
/// Names carry a random id (namespaces <c>lmnet&lt;id&gt;-sw</c>, <c>lmnet&lt;id&gt;-a</c>, ..., directory
/// <c>/tmp/lmnet-&lt;id&gt;</c>), so test classes can build networks in parallel; the /24 comes from the same id,
/// which keeps captures and logs of parallel fixtures apart.
/// </summary>
internal sealed partial class TestNetwork : IAsyncDisposable
{
    private const string Prefix = "lmnet";
    private readonly List<NetworkHost> _hosts = [];
    private readonly string _subnet;

    private TestNetwork(string id)
    {
        Id = id;
        Directory = $"/tmp/{Prefix}-{id}";
        _subnet = $"10.{Convert.ToInt32(id[..2], 16)}.{Convert.ToInt32(id[2..4], 16)}";
    }

    /// <summary>Six hex digits naming this network's namespaces and directory.</summary>
    public string Id { get; }

    /// <summary>The fixture's private files (owner marker, ssh keys and configs).</summary>
    public string Directory { get; }

    public IReadOnlyList<NetworkHost> Hosts => _hosts;

    private string SwitchNamespace => $"{Prefix}{Id}-sw";

    /// <summary>"PID STARTTIME" of the test process that made the network: the sweep keeps networks whose owner lives.</summary>
    public string OwnerFile => Path.Combine(Directory, "owner");

    /// <summary>Removes what crashed earlier runs left behind, then makes an empty network (the bridge only).</summary>
    public static async Task<TestNetwork> CreateAsync()
    {
        await SweepLeftoversAsync();
        var network = new TestNetwork(Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant());
        System.IO.Directory.CreateDirectory(network.Directory);
        // The owner is written before the first namespace exists, so a sweep never takes a live network for a leftover.
        var owner = ProcFs.TryReadIdentity(Environment.ProcessId)!;
        File.WriteAllText(network.OwnerFile, $"{owner.Pid} {owner.StartTime}");
        var sw = network.SwitchNamespace;
        await NetworkNamespaces.IpAsync("netns", "add", sw);
        await NetworkNamespaces.IpAsync("-n", sw, "link", "set", "lo", "up");
        await NetworkNamespaces.IpAsync("-n", sw, "link", "add", "br0", "type", "bridge");
        await NetworkNamespaces.IpAsync("-n", sw, "link", "set", "br0", "up");
        return network;
    }

    /// <summary>A new host on the bridge, <c>lo</c> and <c>eth0</c> up, addresses .1, .2, ... in order of creation.</summary>
    /// <param name="label">1 to 8 lower-case letters or digits (it names the switch port, within IFNAMSIZ).</param>
    public async Task<NetworkHost> AddHostAsync(string label)
    {
        Assert.Matches("^[a-z0-9]{1,8}$", label);
        var host = new NetworkHost(label, $"{Prefix}{Id}-{label}", $"{_subnet}.{_hosts.Count + 1}", $"p-{label}");
        _hosts.Add(host);
        await NetworkNamespaces.IpAsync("netns", "add", host.Namespace);
        // Created inside the switch namespace with the peer moved straight into the host: no name ever appears in the
        // root namespace, so parallel fixtures cannot collide on interface names.
        await NetworkNamespaces.IpAsync("-n", SwitchNamespace, "link", "add", host.SwitchPort, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await NetworkNamespaces.IpAsync("-n", SwitchNamespace, "link", "set", host.SwitchPort, "master", "br0", "up");
        await NetworkNamespaces.IpAsync("-n", host.Namespace, "link", "set", "lo", "up");
        await NetworkNamespaces.IpAsync("-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0");
        await NetworkNamespaces.IpAsync("-n", host.Namespace, "link", "set", "eth0", "up");
        return host;
    }

    /// <summary>
    /// Cuts the host off the network by taking its port on the bridge down, like a pulled cable at the switch: the
    /// host keeps its address and route (the link shows NO-CARRIER), its packets vanish silently, and open TCP
    /// connections stall and retransmit rather than fail at once. (Downing the host's own eth0 would instead remove
    /// its route and give its sockets an immediate "network unreachable".)
    /// </summary>
    /// <summary>Caps what the switch sends to the host (tc tbf on its switch port): a slow link, where a copy takes minutes.</summary>
    public async Task ThrottleLinkAsync(NetworkHost host, int megabitsPerSecond)
    {
        var result = await ProcessRunner.RunAsync("ip", ["netns", "exec", SwitchNamespace, "tc", "qdisc", "replace", "dev", host.SwitchPort, "root",
            "tbf", "rate", $"{megabitsPerSecond}mbit", "burst", "64kb", "latency", "2s"], timeout: TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"tc on {host.SwitchPort}: {result}");
    }

    public Task CutLinkAsync(NetworkHost host) => NetworkNamespaces.IpAsync("-n", SwitchNamespace, "link", "set", host.SwitchPort, "down");

    /// <summary>Reconnects the host and returns once its eth0 has carrier again; stalled TCP connections resume.</summary>
    public async Task RestoreLinkAsync(NetworkHost host)
    {
        await NetworkNamespaces.IpAsync("-n", SwitchNamespace, "link", "set", host.SwitchPort, "up");
        await Poll.UntilAsync(async () => (await host.RunAsync("cat", "/sys/class/net/eth0/carrier")).Stdout.Trim() == "1",
            TimeSpan.FromSeconds(30), $"carrier on {host.Namespace}'s eth0");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
            await NetworkNamespaces.DeleteAsync(host.Namespace);
        await NetworkNamespaces.DeleteAsync(SwitchNamespace);
        DeleteDirectory(Directory);
    }

    /// <summary>
    /// Deletes the namespaces (and the processes in them: daemons, QEMUs, sshd) and directories of networks whose
    /// creating test process is gone, e.g. killed by a test timeout before it could dispose. Networks of live test
    /// processes, this one's or a parallel run's, are left alone.
    /// </summary>
    public static async Task SweepLeftoversAsync()
    {
        var namespaces = System.IO.Directory.Exists(NetworkNamespaces.Directory)
            ? System.IO.Directory.GetFiles(NetworkNamespaces.Directory).Select(Path.GetFileName).OfType<string>().ToList()
            : [];
        var ids = namespaces.Select(n => NamespacePattern().Match(n)).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .Concat(System.IO.Directory.GetDirectories("/tmp", Prefix + "-*").Select(d => DirectoryPattern().Match(Path.GetFileName(d)))
                .Where(m => m.Success).Select(m => m.Groups[1].Value))
            .Distinct();
        foreach (var id in ids)
        {
            var leftover = new TestNetwork(id);
            if (leftover.OwnerIsAlive())
                continue;
            foreach (var name in namespaces.Where(n => n.StartsWith($"{Prefix}{id}-", StringComparison.Ordinal)))
                await NetworkNamespaces.DeleteAsync(name);
            DeleteDirectory(leftover.Directory);
        }
    }

    private bool OwnerIsAlive()
    {
        try
        {
            var fields = File.ReadAllText(OwnerFile).Split(' ');
            return ProcFs.IsAlive(new ProcessIdentity(int.Parse(fields[0], CultureInfo.InvariantCulture), ulong.Parse(fields[1], CultureInfo.InvariantCulture)));
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            // No readable marker: a network that crashed before writing it, or one being created this very moment by
            // another process (directory made, marker not yet written). Only the first is old.
            return System.IO.Directory.Exists(Directory) && System.IO.Directory.GetLastWriteTimeUtc(Directory) > DateTime.UtcNow.AddMinutes(-1);
        }
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [GeneratedRegex("^lmnet([0-9a-f]{6})-")]
    private static partial Regex NamespacePattern();

    [GeneratedRegex("^lmnet-([0-9a-f]{6})$")]
    private static partial Regex DirectoryPattern();
}
