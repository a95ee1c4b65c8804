using System.Text;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.Interop.Tests.Posix;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lm-atomic-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(FileDurability.SurvivesProcessCrash)]
    [InlineData(FileDurability.SurvivesHostCrash)]
    public void WriteAllBytes_ExistingFile_ReplacedWholeWithTheModeAndNoTemporaryLeft(FileDurability durability)
    {
        var path = Path.Combine(_directory, "state.json");
        File.WriteAllText(path, "old content that is longer than the new one");

        AtomicFile.WriteAllBytes(path, "new"u8, durability);

        Assert.Equal("new", File.ReadAllText(path, Encoding.UTF8));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(["state.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(FileDurability.SurvivesProcessCrash)]
    [InlineData(FileDurability.SurvivesHostCrash)]
    public void WriteAllBytes_RenameFails_ThrowsAndLeavesTheTargetAndNoTemporary(FileDurability durability)
    {
        // A directory in the target's place: the rename fails after the temporary file was written.
        var path = Path.Combine(_directory, "taken");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "inside"), "kept");

        Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllBytes(path, "new"u8, durability));

        Assert.Equal("kept", File.ReadAllText(Path.Combine(path, "inside")));
        Assert.Empty(Directory.GetFiles(_directory));
    }
}
