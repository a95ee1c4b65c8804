namespace LocalMigrate.Cli;

/// <summary>Ends the command with one line on stderr and an exit code.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
