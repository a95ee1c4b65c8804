namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>How recovery ends a domain's interrupted job.</summary>
public enum RecoveryOutcome
{
    /// <summary>No job was running on the domain: only its instances were sorted out.</summary>
    NoJob,

    /// <summary>The target holds the guest: the job completed.</summary>
    Completed,

    /// <summary>The source holds the guest: the job failed and was rolled back.</summary>
    RolledBack,

    /// <summary>No instance holds the guest any more: the job failed, the domain crashed.</summary>
    Lost,

    /// <summary>An instance that may hold the guest cannot be asked or is not the job's: nothing that may hold it is touched.</summary>
    Undecided,
}
