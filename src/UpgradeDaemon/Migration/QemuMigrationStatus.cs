namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>query-migrate's status (qapi/migration.json MigrationStatus): outgoing on a source, incoming on a target.</summary>
public enum QemuMigrationStatus
{
    /// <summary>No migration ever ran in this process (query-migrate has no status).</summary>
    None,

    /// <summary><c>setup</c>, <c>active</c>, <c>device</c>, <c>pre-switchover</c>, <c>cancelling</c>, postcopy states: a stream still flows.</summary>
    InFlight,

    /// <summary><c>completed</c>: a source sent the whole guest; a target loaded it.</summary>
    Completed,

    /// <summary><c>failed</c>: the stream broke off.</summary>
    Failed,

    /// <summary><c>cancelled</c>.</summary>
    Cancelled,
}
