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
        AtomicFile.WriteAllBytes(PathOf(uuid), ToUtf8Json(records), FileDurability.SurvivesHostCrash);
    }

    /// <summary>The domain left this host: its images' snapshots are the destination's to record now. None recorded: nothing to do.</summary>
    public void Delete(Guid uuid)
    {
        var path = PathOf(uuid);
        // File.Delete throws for a missing directory (no snapshot was ever taken here); a missing file is fine either way.
        if (File.Exists(path))
            File.Delete(path);
    }

    /// <summary>The records as the catalog file holds them: also what a remote migration sends (Peer.Prepare's "snapshots").</summary>
    public static byte[] ToUtf8Json(IReadOnlyList<SnapshotRecord> records) => JsonSerializer.SerializeToUtf8Bytes(records, Options);

    /// <summary>Records another daemon sent: each name valid, each with at least one disk, no name twice.</summary>
    /// <exception cref="ArgumentException">Not such a list; the message says what is wrong, for the caller to name the field.</exception>
    public static IReadOnlyList<SnapshotRecord> FromJson(string json)
    {
        List<SnapshotRecord?>? records;
        try
        {
            records = JsonSerializer.Deserialize<List<SnapshotRecord?>>(json, Options);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"not a list of snapshot records ({e.Message})", e);
        }
        if (records is null)
            throw new ArgumentException("not a list of snapshot records (null)");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (record is null || record.Name is null || record.Disks is null || record.Disks.Count == 0 || record.Disks.Any(string.IsNullOrEmpty))
                throw new ArgumentException("a snapshot record needs a name and at least one disk path");
            SnapshotService.CheckName(record.Name);
            if (!names.Add(record.Name))
                throw new ArgumentException($"snapshot '{record.Name}' is listed twice");
        }
        return records!;
    }
}
