using System.Text.Json;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The --json document of a command that must have succeeded.</summary>
    public JsonElement Json()
    {
        Assert.True(ExitCode == 0, ToString());
        return JsonDocument.Parse(Stdout).RootElement;
    }

    public override string ToString() => $"exit {ExitCode}; stdout: {Stdout.Trim()}; stderr: {Stderr.Trim()}";
}
