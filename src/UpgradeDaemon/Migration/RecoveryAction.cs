namespace LocalMigrate.UpgradeDaemon.Migration;

public enum RecoveryAction
{
    /// <summary>A stream still flows: cancel every outgoing migration, wait until each is over, observe again, decide again.</summary>
    Settle,

    /// <summary>Apply the decision: kill, keep, resume, end the job.</summary>
    Resolve,
}
