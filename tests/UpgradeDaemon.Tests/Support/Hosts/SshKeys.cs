namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>Key pairs made with ssh-keygen for one fixture: nothing is taken from or left in ~/.ssh or /etc/ssh.</summary>
internal static class SshKeys
{
    /// <summary>Writes an ed25519 key pair without passphrase to FILE and FILE.pub.</summary>
    public static async Task GenerateAsync(string file, string comment)
    {
        var result = await ProcessRunner.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
        Assert.True(result.ExitCode == 0, $"ssh-keygen: {result}");
    }
}
