namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What recovery found of one QEMU instance of a domain.</summary>
public enum InstanceLiveness
{
    /// <summary>The process ended (or its runtime dir is gone): nothing to keep, nothing to kill.</summary>
    Gone,

    /// <summary>The process runs but QMP does not answer: it may hold the guest, so it is never killed nor adopted.</summary>
    Deaf,

    /// <summary>The process runs and answered query-status and query-migrate.</summary>
    Answering,
}
