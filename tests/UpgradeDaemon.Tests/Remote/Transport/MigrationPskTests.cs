using LocalMigrate.UpgradeDaemon.Remote.Transport;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

public sealed class MigrationPskTests
{
    [Fact]
    public void WriteKeyFile_FreshKey_UsernameHexLineMode0600InA0700Directory()
    {
        var root = Directory.CreateTempSubdirectory("lm-psk-").FullName;
        try
        {
            var key = MigrationPsk.CreateKey();
            var directory = MigrationPsk.WriteKeyFile(Path.Combine(root, "psk"), key);

            var path = Path.Combine(directory, MigrationPsk.FileName);
            Assert.Equal($"localmigrate:{Convert.ToHexStringLower(key)}\n", File.ReadAllText(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            Assert.Equal(32, key.Length);
            Assert.NotEqual(key, MigrationPsk.CreateKey());
            Assert.Single(Directory.GetFiles(directory));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("a:b")]
    [InlineData("a b")]
    public void WriteKeyFile_UsernameQemuCannotReadBack_ArgumentExceptionNamingIt(string username)
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationPsk.WriteKeyFile("/nonexistent/never-created", MigrationPsk.CreateKey(), username));
        Assert.Equal("username", e.ParamName);
        Assert.False(Directory.Exists("/nonexistent/never-created"));
    }
}
