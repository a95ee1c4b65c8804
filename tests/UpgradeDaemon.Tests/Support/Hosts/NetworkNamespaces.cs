using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary><c>ip netns</c> operations the test network needs more than once: make one, empty one and remove it.</summary>
internal static class NetworkNamespaces
{
    /// <summary>Where <c>ip netns add</c> keeps its names.</summary>
    public const string Directory = "/run/netns";

    /// <summary>Runs <c>ip ARGS</c>, which must succeed.</summary>
    public static async Task IpAsync(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("ip", args, timeout: TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"ip {string.Join(' ', args)}: {result}");
    }

    /// <summary>Kills every process inside the namespace, waits until they are gone, then deletes it. Deleting the
    /// name alone would leave a namespace alive (with its veths) for as long as one process still runs in it.</summary>
    public static async Task DeleteAsync(string name)
    {
        if (!File.Exists(Path.Combine(Directory, name)))
            return;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await PidsAsync(name) is { Count: > 0 } pids && DateTime.UtcNow < deadline)
        {
            foreach (var pid in pids)
            {
                if (ProcFs.TryReadIdentity(pid) is { } identity)
                    Signals.Kill(identity);
            }
            await Task.Delay(20);
        }
        // Deleting the last host namespace also deletes its eth0 and so the veth's other end on the bridge.
        await ProcessRunner.RunAsync("ip", ["netns", "delete", name]);
    }

    private static async Task<IReadOnlyList<int>> PidsAsync(string name)
    {
        var result = await ProcessRunner.RunAsync("ip", ["netns", "pids", name]);
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Where(p => p != Environment.ProcessId).ToList();
    }
}
