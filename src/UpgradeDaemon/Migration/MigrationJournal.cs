using System.Text.Json;
using System.Text.Json.Serialization;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// The migration journal: one file per job in <c>&lt;state-dir&gt;/jobs/</c>, replaced atomically at every phase
/// change, before the phase acts. A failed write stops the job before it touches a VM.
/// A phase record must outlive the daemon, not the host: a host crash ends both QEMU processes of the job, and after
/// the reboot there is nothing for the phase to decide. So phase records are not fsynced (two disk flushes per phase,
/// 0.5 to 5 ms each here, in the path of every migration); the record of a job's outcome is, since it is history.
/// </summary>
public sealed class MigrationJournal(string stateDirectory)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string Directory { get; } = Path.Combine(stateDirectory, "jobs");

    public void Write(MigrationJournalRecord record)
    {
        System.IO.Directory.CreateDirectory(Directory);
        AtomicFile.WriteAllBytes(Path.Combine(Directory, record.Id + ".json"),
            JsonSerializer.SerializeToUtf8Bytes(record with { UpdatedAt = DateTimeOffset.UtcNow }, Options),
            record.State == MigrationJobState.Running ? FileDurability.SurvivesProcessCrash : FileDurability.SurvivesHostCrash);
    }

    /// <summary>Removes the journals of ended jobs beyond the newest <paramref name="keep"/>: a long-lived host must not grow a file per migration forever.</summary>
    public void Prune(int keep)
    {
        foreach (var old in ReadAll().Where(r => r.State != MigrationJobState.Running).OrderByDescending(r => r.StartedAt).Skip(keep))
        {
            try
            {
                File.Delete(Path.Combine(Directory, old.Id + ".json"));
            }
            catch (IOException)
            {
            }
        }
    }

    public IReadOnlyList<MigrationJournalRecord> ReadAll()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var records = new List<MigrationJournalRecord>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json"))
        {
            try
            {
                var record = JsonSerializer.Deserialize<MigrationJournalRecord>(File.ReadAllBytes(file), Options);
                if (record is not null)
                    records.Add(record);
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                // A torn file cannot exist (atomic writes); an unreadable one is skipped, not fatal.
            }
        }
        return records.OrderBy(r => r.StartedAt).ToList();
    }
}
