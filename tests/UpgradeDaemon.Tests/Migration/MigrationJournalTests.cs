using System.Security.Cryptography;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>The journal reader: every unusable file is named and set aside, never skipped silently, never fatal.</summary>
public sealed class MigrationJournalTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "lmj-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)));

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static MigrationJournalRecord Record(string id) => new()
    {
        Id = id,
        Domain = "vm",
        Uuid = Guid.NewGuid(),
        Kind = MigrationKind.Local,
        Phase = MigrationPhase.Perform,
        State = MigrationJobState.Running,
        SourceInstanceId = "5000aaaa",
        StartedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public void Scan_BadFiles_EachIsReportedByNameWithItsReasonAndSetAsideAsBad()
    {
        var journal = new MigrationJournal(_state);
        journal.Write(Record("good00000001"));
        var dir = journal.Directory;
        var uuid = Guid.NewGuid();
        File.WriteAllText(Path.Combine(dir, "nullid.json"), $$"""{"id":null,"domain":"vm","uuid":"{{uuid}}","kind":"local","phase":"perform","state":"running"}""");
        File.WriteAllText(Path.Combine(dir, "phase9.json"), $$"""{"id":"phase9","domain":"vm","uuid":"{{uuid}}","kind":"local","phase":9,"state":"running"}""");
        File.WriteAllText(Path.Combine(dir, "state7.json"), $$"""{"id":"state7","domain":"vm","uuid":"{{uuid}}","kind":"local","phase":"confirm","state":7}""");
        File.WriteAllBytes(Path.Combine(dir, "empty.json"), []);
        File.WriteAllBytes(Path.Combine(dir, "random.json"), RandomNumberGenerator.GetBytes(512));
        File.WriteAllText(Path.Combine(dir, "renamed.json"), $$"""{"id":"other","domain":"vm","uuid":"{{uuid}}","kind":"local","phase":"begin","state":"running"}""");

        var scan = journal.Scan();

        Assert.Equal("good00000001", Assert.Single(scan.Records).Id);
        var reasons = scan.Rejected.ToDictionary(r => Path.GetFileName(r.File), r => r.Reason);
        Assert.Equal(6, reasons.Count);
        Assert.Contains("id is missing", reasons["nullid.json"]);
        Assert.Contains("phase 9 is not a phase", reasons["phase9.json"]);
        Assert.Contains("state 7 is not a job state", reasons["state7.json"]);
        Assert.Equal("the file is empty", reasons["empty.json"]);
        Assert.StartsWith("not a journal record", reasons["random.json"]);
        Assert.Contains("does not match the file name", reasons["renamed.json"]);
        foreach (var rejected in scan.Rejected)
        {
            Assert.False(File.Exists(rejected.File));
            Assert.Equal(rejected.File + ".bad", rejected.SetAsideAs);
            Assert.True(File.Exists(rejected.SetAsideAs));
        }
        // Set aside once: the next start reads the good record alone, and says nothing more.
        var again = journal.Scan();
        Assert.Single(again.Records);
        Assert.Empty(again.Rejected);
    }
}
