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

    public IReadOnlyList<MigrationJournalRecord> ReadAll() => Scan().Records;

    /// <summary>
    /// Reads every record. A file that is not a valid record (empty, not JSON, no id, a phase or state out of range)
    /// is never silently skipped and never stops the daemon: it is renamed to <c>*.bad</c>, so it is looked at once,
    /// and returned by name so the caller reports it. The domain it spoke for is then decided by QEMU's own state.
    /// </summary>
    public MigrationJournalScan Scan()
    {
        if (!System.IO.Directory.Exists(Directory))
            return new MigrationJournalScan([], []);
        var records = new List<MigrationJournalRecord>();
        var rejected = new List<MigrationJournalRejection>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal).ToList())
        {
            string? problem;
            MigrationJournalRecord? record = null;
            try
            {
                var bytes = File.ReadAllBytes(file);
                record = bytes.Length == 0 ? null : JsonSerializer.Deserialize<MigrationJournalRecord>(bytes, Options);
                problem = bytes.Length == 0 ? "the file is empty" : Validate(record, Path.GetFileNameWithoutExtension(file));
            }
            catch (JsonException e)
            {
                problem = $"not a journal record: {e.Message}";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot read: {e.Message}";
            }
            if (problem is null)
                records.Add(record!);
            else
                rejected.Add(new MigrationJournalRejection(file, problem, SetAside(file)));
        }
        return new MigrationJournalScan(records.OrderBy(r => r.StartedAt).ToList(), rejected);
    }

    /// <returns>null for a usable record, otherwise every reason it is not, naming the fields.</returns>
    private static string? Validate(MigrationJournalRecord? record, string fileId)
    {
        if (record is null)
            return "the file holds null";
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(record.Id))
            errors.Add("id is missing");
        else if (record.Id != fileId)
            errors.Add($"id '{record.Id}' does not match the file name");
        if (string.IsNullOrWhiteSpace(record.Domain))
            errors.Add("domain is missing");
        if (record.Uuid == Guid.Empty)
            errors.Add("uuid is missing");
        if (!Enum.IsDefined(record.Phase))
            errors.Add($"phase {(int)record.Phase} is not a phase");
        if (!Enum.IsDefined(record.State))
            errors.Add($"state {(int)record.State} is not a job state");
        if (!Enum.IsDefined(record.Kind))
            errors.Add($"kind {(int)record.Kind} is not a migration kind");
        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    private static string? SetAside(string file)
    {
        var bad = file + ".bad";
        try
        {
            File.Move(file, bad, overwrite: true);
            return bad;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
