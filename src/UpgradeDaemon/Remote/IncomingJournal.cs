using System.Text.Json;
using System.Text.Json.Serialization;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// The destination's journal of incoming remote migrations, one file per job, replaced atomically. Committed is
/// written so it survives a host crash (it decides which host owns the guest); the rest survives a daemon crash.
/// </summary>
public sealed class IncomingJournal(string stateDirectory)
{
    private const int Kept = 100;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string Directory { get; } = Path.Combine(stateDirectory, "incoming");

    public void Write(IncomingRecord record)
    {
        System.IO.Directory.CreateDirectory(Directory);
        AtomicFile.WriteAllBytes(PathOf(record.JobId), JsonSerializer.SerializeToUtf8Bytes(record with { UpdatedAt = DateTimeOffset.UtcNow }, Options),
            record.State == IncomingState.Committed ? FileDurability.SurvivesHostCrash : FileDurability.SurvivesProcessCrash);
    }

    public IncomingRecord? Find(string jobId)
    {
        if (!IsJobId(jobId))
            return null;
        try
        {
            return JsonSerializer.Deserialize<IncomingRecord>(File.ReadAllBytes(PathOf(jobId)), Options);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Every readable record; an unreadable file is renamed *.bad and skipped (reported through <paramref name="onBad"/>).</summary>
    public IReadOnlyList<IncomingRecord> ReadAll(Action<string, string> onBad)
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var records = new List<IncomingRecord>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal).ToList())
        {
            try
            {
                if (JsonSerializer.Deserialize<IncomingRecord>(File.ReadAllBytes(file), Options) is { JobId: not null, Definition: not null } record)
                {
                    records.Add(record);
                    continue;
                }
                onBad(file, "empty record");
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                onBad(file, e.Message);
            }
            try
            {
                File.Move(file, file + ".bad", overwrite: true);
            }
            catch (IOException)
            {
            }
        }
        return records;
    }

    /// <summary>Drops the oldest ended records beyond the newest 100.</summary>
    public void Prune()
    {
        foreach (var old in ReadAll((_, _) => { }).Where(r => r.State != IncomingState.Prepared).OrderByDescending(r => r.StartedAt).Skip(Kept))
        {
            try
            {
                File.Delete(PathOf(old.JobId));
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Job ids are hex (MigrationJob): anything else never becomes a path.</summary>
    public static bool IsJobId(string jobId) => jobId.Length is > 0 and <= 64 && jobId.All(char.IsAsciiHexDigitLower);

    private string PathOf(string jobId) => Path.Combine(Directory, jobId + ".json");
}
