using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Fleet;

/// <summary>
/// The collection as Ansible's own tools read it: <c>ansible-doc</c> on each module (its DOCUMENTATION, EXAMPLES and
/// RETURN parse, the doc fragment resolves), and the <c>ansible-test sanity</c> tests that run offline. The others
/// (validate-modules, import, pylint, pep8, yamllint, ansible-doc, runtime-metadata) install their requirements into a
/// venv with pip from the network, which this machine does not reach.
/// </summary>
[Trait("Category", "Fleet")]
public sealed class FleetCollectionTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] OfflineSanityTests =
    [
        "action-plugin-docs", "compile", "empty-init", "future-import-boilerplate", "line-endings", "metaclass-boilerplate", "no-assert",
        "no-basestring", "no-dict-iteritems", "no-dict-iterkeys", "no-dict-itervalues", "no-get-exception", "no-illegal-filenames",
        "no-main-display", "no-smart-quotes", "no-unicode-literals", "replace-urlopen", "shebang", "symlinks", "use-argspec-type-path",
        "use-compat-six",
    ];

    private readonly string _directory = Directory.CreateTempSubdirectory("lmfleet-doc-").FullName;

    [Theory]
    [InlineData("vm", "migrated_to")]
    [InlineData("upgrade", "moved")]
    [InlineData("evacuate", "refusals")]
    [InlineData("maintenance", "previous")]
    [InlineData("host_facts", "mem_available_bytes")]
    public async Task AnsibleDoc_Module_DocumentationParsesWithItsOptionsAndReturnValues(string module, string documentedField)
    {
        var collections = AnsibleController.LinkCollection(_directory);
        var config = Path.Combine(_directory, "ansible.cfg");
        await File.WriteAllTextAsync(config, "[defaults]\n");

        var result = await ProcessRunner.RunAsync("ansible-doc", ["--json", "localmigrate.fleet." + module],
            new Dictionary<string, string> { ["ANSIBLE_COLLECTIONS_PATH"] = collections, ["ANSIBLE_CONFIG"] = config });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("WARNING", result.Stderr);
        var doc = System.Text.Json.JsonDocument.Parse(result.Stdout).RootElement.GetProperty("localmigrate.fleet." + module);
        Assert.Equal(module, doc.GetProperty("doc").GetProperty("module").GetString());
        Assert.True(doc.GetProperty("doc").GetProperty("options").TryGetProperty("cli", out _), "the cli doc fragment is not resolved");
        Assert.False(string.IsNullOrWhiteSpace(doc.GetProperty("examples").GetString()));
        Assert.Contains(documentedField, result.Stdout);
    }

    [Fact]
    public async Task AnsibleTestSanity_OfflineTests_Pass()
    {
        // ansible-test wants the working directory inside ansible_collections/NS/NAME and resolves symlinks: a copy.
        var root = Path.Combine(_directory, "ansible_collections", "localmigrate", "fleet");
        Copy(Path.Combine(RepositoryRoot.Path, "ansible"), root);
        // The python3 of the distribution (3.11 on Debian 12): ansible-test would otherwise look for every version it supports.
        var python = (await ProcessRunner.RunAsync("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])).Stdout.Trim();
        var arguments = new List<string> { "ansible-test", "sanity", "--python", python };
        foreach (var test in OfflineSanityTests)
            arguments.AddRange(["--test", test]);

        var result = await ProcessRunner.RunAsync("env", ["-C", root, .. arguments], timeout: TimeSpan.FromMinutes(5));

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var test in OfflineSanityTests)
            Assert.Contains($"Running sanity test \"{test}\"", result.Stdout + result.Stderr);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(from))
            Copy(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    public void Dispose()
    {
        var link = new DirectoryInfo(Path.Combine(_directory, "collections", "ansible_collections", "localmigrate", "fleet"));
        if (link.LinkTarget is not null)
            link.Delete();
        Directory.Delete(_directory, recursive: true);
    }
}
