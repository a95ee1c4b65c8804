using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Definitions on disk, one file per domain: <c>&lt;state-dir&gt;/domains/&lt;uuid&gt;.json</c>, written atomically.
/// Named by uuid, not name, so a name is only ever data and never a path.
/// </summary>
public sealed class DefinitionStore(string stateDirectory)
{
    public string Directory { get; } = Path.Combine(stateDirectory, "domains");

    public string PathOf(Guid uuid) => Path.Combine(Directory, uuid.ToString("D") + ".json");

    /// <summary>The snapshot records kept beside the definitions (a remote migration sends them and drops them here after).</summary>
    public LocalMigrate.UpgradeDaemon.Snapshots.SnapshotCatalog Snapshots { get; } = new(stateDirectory);

    public void Save(DomainDefinition definition)
    {
        System.IO.Directory.CreateDirectory(Directory);
        // A definition must outlive the host: it is how the VM comes back after a reboot.
        AtomicFile.WriteAllBytes(PathOf(definition.Uuid), DefinitionWriter.ToUtf8Json(definition), FileDurability.SurvivesHostCrash);
    }

    public void Delete(Guid uuid) => File.Delete(PathOf(uuid));

    /// <returns>Every stored definition; an unreadable file is reported to <paramref name="onError"/> and skipped.</returns>
    public IReadOnlyList<DomainDefinition> LoadAll(Action<string, Exception> onError)
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var result = new List<DomainDefinition>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                result.Add(DefinitionParser.Parse(File.ReadAllText(file)));
            }
            catch (Exception e) when (e is IOException or DefinitionException or UnauthorizedAccessException)
            {
                onError(file, e);
            }
        }
        return result;
    }
}
