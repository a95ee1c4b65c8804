using System.Text.Json;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>
/// The daemon's record of each domain's snapshots, <c>&lt;state-dir&gt;/snapshots/&lt;uuid&gt;.json</c> beside the definition.
/// Only a record: every list compares it with the images, which stay the truth.
/// </summary>
public sealed class SnapshotCatalog(string stateDirectory)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Directory { get; } = Path.Combine(stateDirectory, "snapshots");

    public string PathOf(Guid uuid) => Path.Combine(Directory, uuid.ToString("D") + ".json");

    /// <exception cref="SnapshotException">The file exists but cannot be read as a catalog.</exception>
    public IReadOnlyList<SnapshotRecord> Read(Guid uuid)
    {
        var path = PathOf(uuid);
        if (!File.Exists(path))
            return [];
        try
        {
            return JsonSerializer.Deserialize<List<SnapshotRecord>>(File.ReadAllBytes(path), Options)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new SnapshotException($"{path}: not a snapshot catalog ({e.Message}); move it aside to start a new one", e);
        }
    }

    /// <summary>Fsynced: a snapshot outlives the host, so its record must too.</summary>
    public void Write(Guid uuid, IReadOnlyList<SnapshotRecord> records)
    {
        System.IO.Directory.CreateDirectory(Directory);
        AtomicFile.WriteAllBytes(PathOf(uuid), JsonSerializer.SerializeToUtf8Bytes(records, Options), FileDurability.SurvivesHostCrash);
    }
}
