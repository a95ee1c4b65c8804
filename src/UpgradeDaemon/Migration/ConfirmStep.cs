namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// The steps inside Confirm, in order, each a place a crash can leave the switch-over (fault tests pause there, see
/// <see cref="EnvironmentPhaseGate"/>). Entering Confirm (the journal line) comes before all of them.
/// </summary>
public enum ConfirmStep
{
    /// <summary>The target answered query-status: it runs the guest; nothing was changed yet.</summary>
    TargetVerified = 1,

    /// <summary>The target is the domain's active instance, in the registry and in its instance.json.</summary>
    TargetPromoted = 2,

    /// <summary>The source got <c>quit</c>; the daemon has not seen it exit yet.</summary>
    SourceQuitSent = 3,

    /// <summary>The source process has exited; its runtime dir is still there.</summary>
    SourceExited = 4,

    /// <summary>The source's runtime dir is gone; the job's end is not journaled yet.</summary>
    SourceDirectoryRemoved = 5,
}
