using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Fleet;

/// <summary>
/// Real <c>ansible-playbook</c> (Debian's ansible-core) against the <see cref="TestHosts"/>: run inside host A's namespace
/// (the test network is reachable only from its hosts), agentless over ssh to every host with the fixture's client key
/// and known_hosts, and the collection from the repository's <c>ansible/</c>, which Ansible finds through an
/// <c>ansible_collections/localmigrate/fleet</c> symlink made here (the repository keeps the collection at <c>ansible/</c>).
/// A module's ssh session reaches that host's daemon because each test sshd sets <c>LOCALMIGRATE_BUS</c> in every
/// session, the same way the peer bridge finds it; the CLI (on no PATH) is named by <c>LOCALMIGRATE_CLI</c>, passed with
/// the playbooks' <c>localmigrate_environment</c>.
/// </summary>
internal sealed class AnsibleController : IDisposable
{
    private readonly TestHosts _hosts;
    private readonly ITestOutputHelper _output;

    private AnsibleController(TestHosts hosts, ITestOutputHelper output, string directory)
    {
        _hosts = hosts;
        _output = output;
        Directory = directory;
    }

    /// <summary>Inventory, ansible.cfg, the collection's symlink, temp and control-socket directories, and the tests' own task files.</summary>
    public string Directory { get; }

    public string InventoryFile => Path.Combine(Directory, "inventory.json");

    /// <summary>The CLI of this build, as the modules run it on each host.</summary>
    public static string Cli => Path.Combine(AppContext.BaseDirectory, "localmigrate");

    public static string Playbooks => Path.Combine(RepositoryRoot.Path, "ansible", "playbooks");

    /// <param name="hostVars">Per host label, variables for its inventory entry.</param>
    public static AnsibleController Create(TestHosts hosts, ITestOutputHelper output, Func<TestHost, IReadOnlyDictionary<string, string>>? hostVars = null)
    {
        var directory = $"/tmp/lmfleet-{Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}";
        System.IO.Directory.CreateDirectory(directory);
        var controller = new AnsibleController(hosts, output, directory);
        LinkCollection(directory);
        foreach (var sub in new[] { "tmp", "remote-tmp", "cp" })
            System.IO.Directory.CreateDirectory(Path.Combine(directory, sub));
        // No /etc/ansible/ansible.cfg or ~/.ansible.cfg of this machine: only what the environment below says.
        File.WriteAllText(Path.Combine(directory, "ansible.cfg"), "[defaults]\n");

        var members = new JsonObject();
        foreach (var host in hosts.Hosts)
        {
            var vars = new JsonObject { ["ansible_host"] = host.Address };
            foreach (var (k, v) in hostVars?.Invoke(host) ?? new Dictionary<string, string>())
                vars[k] = v;
            members[host.Label] = vars;
        }
        var inventory = new JsonObject
        {
            ["all"] = new JsonObject
            {
                ["children"] = new JsonObject { ["localmigrate"] = new JsonObject { ["hosts"] = members } },
                ["vars"] = new JsonObject
                {
                    ["ansible_user"] = "root",
                    ["ansible_python_interpreter"] = "/usr/bin/python3",
                    // The fixture's ssh options: its key, BatchMode, strict host keys against its own known_hosts.
                    ["ansible_ssh_common_args"] = string.Join(' ', hosts.Ssh.Options),
                    ["localmigrate_environment"] = new JsonObject { ["LOCALMIGRATE_CLI"] = Cli },
                },
            },
        };
        File.WriteAllText(controller.InventoryFile, inventory.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return controller;
    }

    /// <summary>A temp directory holding <c>ansible_collections/localmigrate/fleet</c> → the repository's <c>ansible/</c>.</summary>
    public static string LinkCollection(string directory)
    {
        var collections = Path.Combine(directory, "collections");
        var ns = Path.Combine(collections, "ansible_collections", "localmigrate");
        System.IO.Directory.CreateDirectory(ns);
        File.CreateSymbolicLink(Path.Combine(ns, "fleet"), Path.Combine(RepositoryRoot.Path, "ansible"));
        return collections;
    }

    /// <summary>Writes one of the test's own task files (a maintenance or QEMU-upgrade hook) and returns its path.</summary>
    public string WriteTasks(string name, string yaml)
    {
        var file = Path.Combine(Directory, name);
        File.WriteAllText(file, yaml);
        return file;
    }

    /// <summary>Runs a playbook of the collection to its end from host A; prints its output and wall time.</summary>
    public Task<CommandResult> PlaybookAsync(string playbook, params string[] arguments) =>
        RunAsync("ansible-playbook", [Path.Combine(Playbooks, playbook), .. arguments]);

    /// <summary>One module of the collection on one host, ad hoc (<c>ansible HOST -m MODULE -a ARGS -o</c>): the result and the module's JSON.</summary>
    public async Task<(CommandResult Result, JsonElement Outcome)> ModuleAsync(string host, string module, string moduleArguments, params string[] arguments)
    {
        // An ad hoc command has no play environment: the CLI's path goes in as the module's cli option.
        var result = await RunAsync("ansible", [host, "-m", "localmigrate.fleet." + module, "-a", $"{moduleArguments} cli={Cli}", "-o", .. arguments]);
        // "-o": one line per host, "HOST | STATUS => {json}" (or "| FAILED! =>").
        var line = result.Stdout.Split('\n').Single(l => l.StartsWith(host + " | ", StringComparison.Ordinal));
        return (result, JsonDocument.Parse(line[(line.IndexOf("=> ", StringComparison.Ordinal) + 3)..]).RootElement.Clone());
    }

    private async Task<CommandResult> RunAsync(string program, string[] arguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["ANSIBLE_CONFIG"] = Path.Combine(Directory, "ansible.cfg"),
            ["ANSIBLE_COLLECTIONS_PATH"] = Path.Combine(Directory, "collections"),
            ["ANSIBLE_LOCAL_TEMP"] = Path.Combine(Directory, "tmp"),
            ["ANSIBLE_REMOTE_TEMP"] = Path.Combine(Directory, "remote-tmp"),
            // One ssh connection per host for the whole run, gone soon after it (the hosts are torn down with the test).
            ["ANSIBLE_SSH_CONTROL_PATH_DIR"] = Path.Combine(Directory, "cp"),
            ["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=auto -o ControlPersist=5s",
            ["ANSIBLE_PIPELINING"] = "True",
            // The test sshds have no sftp subsystem; files (copy content) go through the ssh session itself.
            ["ANSIBLE_SSH_TRANSFER_METHOD"] = "piped",
            ["ANSIBLE_NOCOLOR"] = "1",
            ["ANSIBLE_RETRY_FILES_ENABLED"] = "False",
            ["ANSIBLE_GATHERING"] = "explicit",
            ["ANSIBLE_TIMEOUT"] = "60",
        };
        string[] command = ["netns", "exec", _hosts.A.Network.Namespace, program, "-i", InventoryFile, .. arguments];
        _output.WriteLine(string.Join(' ', command.Skip(3)));
        var clock = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync("ip", command, environment, TimeSpan.FromMinutes(15));
        _output.WriteLine($"{program} exited {result.ExitCode} after {clock.Elapsed.TotalSeconds:0.0} s\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    /// <summary>The PLAY RECAP counts of one host (ok, changed, unreachable, failed, skipped, ...); null when it was never reached.</summary>
    public static IReadOnlyDictionary<string, int>? Recap(CommandResult result, string host)
    {
        var line = result.Stdout.Split('\n').LastOrDefault(l => l.StartsWith(host + " ", StringComparison.Ordinal) && l.Contains(" : ok=", StringComparison.Ordinal));
        if (line is null)
            return null;
        return line[(line.IndexOf(" : ", StringComparison.Ordinal) + 3)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=')).ToDictionary(p => p[0], p => int.Parse(p[1]));
    }

    public void Dispose()
    {
        try
        {
            // The link first, on its own: a recursive delete must never reach the repository's ansible/ through it.
            var link = new DirectoryInfo(Path.Combine(Directory, "collections", "ansible_collections", "localmigrate", "fleet"));
            if (link.LinkTarget is not null)
                link.Delete();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A control socket still closing; the next run uses another directory.
        }
    }
}
