using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Fleet;

/// <summary>
/// The collection's two playbooks run by real <c>ansible-playbook</c> over ssh against three hosts (network namespaces,
/// each with its own daemon, bus and sshd; see <see cref="AnsibleController"/>), with small real test guests. Every guest
/// that moves must keep its boot and keep ticking where it lands.
/// </summary>
[Collection(RealQemuCollection.Name)]
[Trait("Category", "Fleet")]
public sealed class FleetPlaybookTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int GuestMiB = 96;

    private readonly string _directory = Directory.CreateTempSubdirectory("lmfleet-qemu-").FullName;
    private TestHosts? _hosts;
    private AnsibleController? _ansible;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _ansible?.Dispose();
        if (_hosts is not null)
            await _hosts.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>What the maintenance hook of these tests records on the host it runs on (the host under maintenance).</summary>
    private const string RecordingMaintenance = """
        ---
        - name: Read the host under maintenance
          localmigrate.fleet.host_facts:

        - name: Record what the maintenance saw
          ansible.builtin.copy:
            dest: "{{ fleet_record_dir }}/{{ inventory_hostname }}.json"
            content: "{{ {'running': ansible_facts.localmigrate.running, 'maintenance': ansible_facts.localmigrate.maintenance, 'moved': localmigrate_evacuation.moved} | to_json }}"
            mode: "0644"
        """;

    [Fact]
    public async Task HostMaintenance_HostAWithThreeGuests_EmptiedOntoBAndCDuringTheTasksThenMovedBackTickingThroughout()
    {
        var (a, b, c) = await StartAsync();
        var names = new[] { "fleet1", "fleet2", "fleet3" };
        var before = new Dictionary<string, GuestConsole.Tick>();
        foreach (var name in names)
            before[name] = (await a.Daemon.BootGuestAsync(name, GuestMiB, "private", patternMiB: 16)).LastTick()!;
        var hook = _ansible!.WriteTasks("maintenance.yml", RecordingMaintenance);

        var result = await _ansible.PlaybookAsync("host-maintenance.yml", "--limit", "a",
            "-e", $"localmigrate_maintenance_tasks={hook}", "-e", $"fleet_record_dir={_directory}",
            "-e", "localmigrate_move_back=true", "-e", "localmigrate_max_bandwidth_mib=1000");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0, AnsibleController.Recap(result, "a")!["failed"]);
        // While the maintenance tasks ran, A was empty and in maintenance, its guests spread over B and C.
        var seen = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, "a.json"))).RootElement;
        Assert.Empty(seen.GetProperty("running").EnumerateArray());
        Assert.True(seen.GetProperty("maintenance").GetBoolean());
        var moved = seen.GetProperty("moved").EnumerateArray()
            .ToDictionary(m => m.GetProperty("domain").GetString()!, m => m.GetProperty("destination").GetString()!);
        Assert.Equal(names.Order(), moved.Keys.Order());
        Assert.Contains(b.SshUri, moved.Values);
        Assert.Contains(c.SshUri, moved.Values);
        Assert.All(moved.Values, d => Assert.Contains(d, new[] { b.SshUri, c.SshUri }));
        // Back on A, out of maintenance, each guest still in the boot it had before it left.
        foreach (var name in names)
        {
            var back = await a.Daemon.Console(name).WaitForTicksAsync(before[name].Counter, 30, TimeSpan.FromSeconds(120));
            Assert.Equal(before[name].BootId, back.BootId);
        }
        Assert.Equal(3, a.Daemon.QemuProcesses().Count);
        await Poll.UntilAsync(() => b.Daemon.QemuProcesses().Count == 0 && c.Daemon.QemuProcesses().Count == 0,
            TimeSpan.FromSeconds(30), "no QEMU left on B and C");
        Assert.False((await a.Daemon.CliAsync("maintenance", "--json")).Json().GetProperty("maintenance").GetBoolean());
        Assert.False(File.Exists(Path.Combine(_directory, "b.json")));
    }

    [Fact]
    public async Task HostMaintenance_GuestNoPeerTakes_ReportedAndThePlayStopsBeforeTheNextHost()
    {
        var (a, b, c) = await StartAsync();
        var stuck = await a.Daemon.BootGuestAsync("stuck", GuestMiB, "private", patternMiB: 16);
        foreach (var peer in new[] { b, c })
        {
            // The same name with another uuid on both peers: their pre-flight refuses it.
            var file = Path.Combine(peer.Daemon.Root, "stuck.json");
            await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition("stuck", GuestMiB));
            Assert.Equal(0, (await peer.Daemon.CliAsync("define", file)).ExitCode);
        }
        var hook = _ansible!.WriteTasks("maintenance.yml", RecordingMaintenance);

        var result = await _ansible.PlaybookAsync("host-maintenance.yml", "--limit", "a,b",
            "-e", $"localmigrate_maintenance_tasks={hook}", "-e", $"fleet_record_dir={_directory}");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(1, AnsibleController.Recap(result, "a")!["failed"]);
        // serial 1 and max_fail_percentage 0: B's turn never came.
        Assert.Null(AnsibleController.Recap(result, "b"));
        Assert.Contains("1 VM did not leave this host", result.Stdout);
        Assert.Contains("stuck (no destination took stuck", result.Stdout);
        Assert.Contains("another domain named stuck", result.Stdout);
        Assert.False(File.Exists(Path.Combine(_directory, "a.json")), "the maintenance tasks ran on a host that was not empty");
        Assert.False(File.Exists(Path.Combine(_directory, "b.json")));
        Assert.Single(a.Daemon.QemuProcesses());
        await stuck.WaitForTicksAsync(stuck.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        Assert.True((await a.Daemon.CliAsync("maintenance", "--json")).Json().GetProperty("maintenance").GetBoolean());
        Assert.False((await b.Daemon.CliAsync("maintenance", "--json")).Json().GetProperty("maintenance").GetBoolean());
    }

    [Fact]
    public async Task RollingQemuUpgrade_EveryHostsQemuReplaced_EachGuestMovesOntoTheNewBuildNoneStaleAndASecondRunChangesNothing()
    {
        var (a, b, c) = await StartOnOldQemuAsync();
        var hosts = new[] { a, b, c };
        var before = new Dictionary<TestHost, (GuestConsole.Tick Tick, JsonElement Status)>();
        foreach (var host in hosts)
        {
            var tick = (await host.Daemon.BootGuestAsync("up" + host.Label, GuestMiB, "private", patternMiB: 16)).LastTick()!;
            var status = (await host.Daemon.CliAsync("status", "up" + host.Label, "--json")).Json();
            Assert.Equal(QemuOf(host.Label), status.GetProperty("qemuBinary").GetString());
            Assert.StartsWith("7.2.", status.GetProperty("qemuVersion").GetString());
            Assert.False(status.GetProperty("stale").GetBoolean(), status.ToString());
            before[host] = (tick, status);
        }
        var arguments = InstallNewQemuArguments();

        var result = await _ansible!.PlaybookAsync("rolling-qemu-upgrade.yml", arguments);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var host in hosts)
        {
            Assert.Equal(0, AnsibleController.Recap(result, host.Label)!["failed"]);
            var name = "up" + host.Label;
            var status = (await host.Daemon.CliAsync("status", name, "--json")).Json();
            output.WriteLine($"{name}: QEMU {before[host].Status.GetProperty("qemuVersion")} pid {before[host].Status.GetProperty("pid")} -> "
                + $"QEMU {status.GetProperty("qemuVersion")} pid {status.GetProperty("pid")}");
            Assert.False(status.GetProperty("stale").GetBoolean(), status.ToString());
            Assert.NotEqual(before[host].Status.GetProperty("pid").GetInt32(), status.GetProperty("pid").GetInt32());
            Assert.StartsWith("10.0.2", status.GetProperty("qemuVersion").GetString());
            var after = await host.Daemon.Console(name).WaitForTicksAsync(before[host].Tick.Counter, 20, TimeSpan.FromSeconds(60));
            Assert.Equal(before[host].Tick.BootId, after.BootId);
        }
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(result.Stdout, @"1 VM\(s\) moved onto QEMU emulator version 10\.0\.2"));

        // All three hosts in one batch this time (serial from the command line): nothing is stale, nothing moves.
        var again = await _ansible.PlaybookAsync("rolling-qemu-upgrade.yml", [.. arguments, "-e", "localmigrate_serial=3"]);

        Assert.True(again.ExitCode == 0, again.ToString());
        foreach (var host in hosts)
            Assert.Equal(0, AnsibleController.Recap(again, host.Label)!["changed"]);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(again.Stdout, @"0 VM\(s\) moved onto"));
    }

    [Fact]
    public async Task RollingQemuUpgrade_AVmOnTheFirstHostCannotMove_ReportedItKeepsRunningAndThePlayStopsBeforeTheNextHost()
    {
        var (a, b, c) = await StartOnOldQemuAsync();
        var mover = (await a.Daemon.BootGuestAsync("mover", GuestMiB, "private", patternMiB: 16)).LastTick()!;
        // A guest whose disk image was deleted while it runs: a new QEMU cannot open it, so the guest cannot move.
        var disk = Path.Combine(_directory, "lost.img");
        await File.WriteAllBytesAsync(disk, new byte[1 << 20]);
        var definition = System.Text.Json.Nodes.JsonNode.Parse(EngineHarness.GuestDefinition("lost", GuestMiB,
            UpgradeDaemon.Domains.MemoryBacking.Private, 16))!.AsObject();
        definition["disks"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["path"] = disk, ["format"] = "raw" });
        var file = Path.Combine(a.Daemon.Root, "lost.json");
        await File.WriteAllTextAsync(file, definition.ToJsonString());
        Assert.Equal(0, (await a.Daemon.CliAsync("define", file)).ExitCode);
        Assert.Equal(0, (await a.Daemon.CliAsync("start", "lost")).ExitCode);
        var lost = await a.Daemon.Console("lost").WaitForTicksAsync(0, 10, TimeSpan.FromSeconds(90));
        File.Delete(disk);

        var result = await _ansible!.PlaybookAsync("rolling-qemu-upgrade.yml", InstallNewQemuArguments());

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(1, AnsibleController.Recap(result, "a")!["failed"]);
        // serial 1, max_fail_percentage 0: B and C keep their QEMU, untouched.
        Assert.Null(AnsibleController.Recap(result, "b"));
        Assert.Null(AnsibleController.Recap(result, "c"));
        Assert.True(Directory.Exists(TreeOf("b")) && !Directory.Exists(TreeOf("b") + "-old"));
        Assert.Contains("1 VM did not move onto the installed QEMU", result.Stdout);
        Assert.Contains("lost (", result.Stdout);
        Assert.Contains(disk, result.Stdout);
        var stuck = (await a.Daemon.CliAsync("status", "lost", "--json")).Json();
        Assert.Equal("running", stuck.GetProperty("state").GetString());
        Assert.StartsWith("7.2.", stuck.GetProperty("qemuVersion").GetString());
        Assert.True(stuck.GetProperty("stale").GetBoolean());
        await a.Daemon.Console("lost").WaitForTicksAsync(lost.Counter, 10, TimeSpan.FromSeconds(60));
        var moved = (await a.Daemon.CliAsync("status", "mover", "--json")).Json();
        Assert.StartsWith("10.0.2", moved.GetProperty("qemuVersion").GetString());
        Assert.Equal(mover.BootId, (await a.Daemon.Console("mover").WaitForTicksAsync(mover.Counter, 10, TimeSpan.FromSeconds(60))).BootId);
    }

    [Fact]
    public async Task VmAndMaintenanceModules_AdHoc_ChangeOnceThenNotAgainCheckModeTouchesNothingFailuresNameTheField()
    {
        var (a, _, _) = await StartAsync();
        await a.Daemon.BootGuestAsync("adhoc", GuestMiB, "private", patternMiB: 16);

        var (_, check) = await _ansible!.ModuleAsync("a", "vm", "name=adhoc state=stopped force=true", "--check");
        var (_, stop) = await _ansible.ModuleAsync("a", "vm", "name=adhoc state=stopped force=true");
        var (_, stopAgain) = await _ansible.ModuleAsync("a", "vm", "name=adhoc state=stopped force=true");

        Assert.True(check.GetProperty("changed").GetBoolean(), check.ToString());
        Assert.Equal("running", check.GetProperty("domain").GetProperty("state").GetString());
        Assert.True(stop.GetProperty("changed").GetBoolean(), stop.ToString());
        Assert.Equal("shutoff", stop.GetProperty("domain").GetProperty("state").GetString());
        Assert.False(stopAgain.GetProperty("changed").GetBoolean(), stopAgain.ToString());
        Assert.Empty(a.Daemon.QemuProcesses());

        var (_, on) = await _ansible.ModuleAsync("a", "maintenance", "state=on");
        var (_, onAgain) = await _ansible.ModuleAsync("a", "maintenance", "state=on");
        var (startResult, start) = await _ansible.ModuleAsync("a", "vm", "name=adhoc state=running");

        Assert.True(on.GetProperty("changed").GetBoolean() && on.GetProperty("maintenance").GetBoolean() && !on.GetProperty("previous").GetBoolean(), on.ToString());
        Assert.False(onAgain.GetProperty("changed").GetBoolean(), onAgain.ToString());
        Assert.NotEqual(0, startResult.ExitCode);
        Assert.Contains("localmigrate start adhoc: ", start.GetProperty("msg").GetString());
        Assert.Contains("is in maintenance", start.GetProperty("msg").GetString());
        Assert.Empty(a.Daemon.QemuProcesses());

        var (_, missing) = await _ansible.ModuleAsync("a", "vm", "name=nosuch state=running");
        var (_, badParallel) = await _ansible.ModuleAsync("a", "upgrade", "parallel=0");

        Assert.Equal("name: no domain named nosuch on this host", missing.GetProperty("msg").GetString());
        Assert.Equal("parallel: must be 1 to 64, got 0", badParallel.GetProperty("msg").GetString());
    }

    /// <summary>
    /// Each daemon's qemuBinary is in its own copy of the unpacked QEMU 7.2 tree (modules and firmware relative to the
    /// binary); <see cref="InstallNewQemuArguments"/> makes the play's upgrade step set that tree aside (its QEMUs keep
    /// running from it) and put QEMU 10.0's unpacked tree in its place, as a package upgrade replaces the files.
    /// </summary>
    private async Task<(TestHost A, TestHost B, TestHost C)> StartOnOldQemuAsync()
    {
        foreach (var label in new[] { "a", "b", "c" })
            ProcessRunner.Run("cp", "-a", OldQemuTree, TreeOf(label));
        return await StartAsync(label => $$"""{ "qemuBinary": "{{QemuOf(label)}}" }""");
    }

    private string[] InstallNewQemuArguments()
    {
        var install = _ansible!.WriteTasks("install-qemu.yml", """
            ---
            - name: Set the running QEMU tree aside
              ansible.builtin.command: mv {{ fleet_qemu_tree }} {{ fleet_qemu_tree }}-old
              args:
                creates: "{{ fleet_qemu_tree }}-old"

            - name: Install the new QEMU tree under the configured path
              ansible.builtin.command: cp -a {{ fleet_new_qemu_tree }} {{ fleet_qemu_tree }}
              args:
                creates: "{{ fleet_qemu_tree }}"
            """);
        return ["-e", $"localmigrate_qemu_upgrade_tasks={install}", "-e", $"fleet_new_qemu_tree={NewQemu.Tree}"];
    }

    private static string OldQemuTree => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OldQemu.Path)!, "..", ".."));

    private string TreeOf(string label) => Path.Combine(_directory, label + "-qemu");

    private string QemuOf(string label) => Path.Combine(TreeOf(label), "usr", "bin", "qemu-system-x86_64");

    private async Task<(TestHost A, TestHost B, TestHost C)> StartAsync(Func<string, string?>? configOverrides = null)
    {
        _hosts = await TestHosts.StartAsync(output, 3, configOverrides);
        _ansible = AnsibleController.Create(_hosts, output, host => new Dictionary<string, string> { ["fleet_qemu_tree"] = TreeOf(host.Label) });
        return (_hosts.A, _hosts.B, _hosts.C);
    }
}
