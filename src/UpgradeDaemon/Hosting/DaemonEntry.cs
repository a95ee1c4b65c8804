namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>Entry point of <c>localmigrated</c>.</summary>
internal static class DaemonEntry
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("localmigrated: the service host is not built yet");
        return 2;
    }
}
