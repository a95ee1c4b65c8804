namespace LocalMigrate.Cli;

/// <summary>The command's exit status (also in the man page).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The operation ran and failed (a migration failed, a VM did not start, ...).</summary>
    public const int Failed = 1;

    /// <summary>Bad command line or bad argument value.</summary>
    public const int Usage = 2;

    public const int DaemonNotRunning = 3;
    public const int AccessDenied = 4;
    public const int NoSuchDomain = 5;
}
