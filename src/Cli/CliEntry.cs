namespace LocalMigrate.Cli;

/// <summary>Entry point of the <c>localmigrate</c> command.</summary>
internal static class CliEntry
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("localmigrate: the D-Bus client is not built yet");
        return 2;
    }
}
