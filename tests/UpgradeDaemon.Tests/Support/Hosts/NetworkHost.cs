namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>One "host" of a <see cref="TestNetwork"/>: a network namespace whose <c>eth0</c> has <see cref="Address"/>
/// and is wired to the network's bridge through <see cref="SwitchPort"/>.</summary>
internal sealed record NetworkHost(string Label, string Namespace, string Address, string SwitchPort)
{
    /// <summary>The prefix that runs a program inside this host. <c>ip netns exec</c> execs the program, so a process
    /// started this way has the program's own pid (kill, /proc and DaemonProcess work unchanged).</summary>
    public IReadOnlyList<string> Exec => ["ip", "netns", "exec", Namespace];

    /// <summary>Runs a program inside this host to its end.</summary>
    public Task<CommandResult> RunAsync(string program, params string[] args) =>
        ProcessRunner.RunAsync(Exec[0], [.. Exec.Skip(1), program, .. args], timeout: TimeSpan.FromMinutes(2));

    /// <summary>The namespace's identity as /proc shows it (<c>net:[INODE]</c>), to compare with
    /// <c>/proc/PID/ns/net</c> of a process that should live here.</summary>
    public async Task<string> NamespaceIdentityAsync()
    {
        var result = await RunAsync("readlink", "/proc/self/ns/net");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout.Trim();
    }
}
