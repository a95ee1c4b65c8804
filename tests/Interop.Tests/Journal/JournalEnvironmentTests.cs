using LocalMigrate.Interop.Journal;

namespace LocalMigrate.Interop.Tests.Journal;

public sealed class JournalEnvironmentTests
{
    [Fact]
    public async Task IsConnectedToJournal_StreamMatchesDescriptor_True()
    {
        var path = Path.GetTempFileName();
        try
        {
            using var handle = File.OpenHandle(path);
            var fd = (int)handle.DangerousGetHandle();
            var stat = await CommandRunner.RunAsync("stat", ["-L", "-c", "%d:%i", path]);
            var deviceAndInode = stat.Stdout.Trim();

            Assert.True(JournalEnvironment.IsConnectedToJournal(deviceAndInode, fd));
            Assert.False(JournalEnvironment.IsConnectedToJournal(deviceAndInode + "1", fd));
            Assert.False(JournalEnvironment.IsConnectedToJournal("12", fd));
            Assert.False(JournalEnvironment.IsConnectedToJournal(null, fd));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
