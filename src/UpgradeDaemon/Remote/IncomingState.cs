namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>How far a destination got with an incoming remote migration; only moves forward.</summary>
public enum IncomingState
{
    /// <summary>The target exists (or is being started), paused; the source may still commit or abort.</summary>
    Prepared,

    /// <summary>The source committed: the guest is this host's. Journaled before the domain is defined and resumed.</summary>
    Committed,

    /// <summary>Rolled back: the target was killed (or never started).</summary>
    Aborted,
}
