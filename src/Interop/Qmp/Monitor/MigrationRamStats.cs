namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/migration.json <c>MigrationStats</c>: the <c>ram</c> member of <c>query-migrate</c>, in bytes.</summary>
public sealed record MigrationRamStats
{
    public long Transferred { get; init; }

    /// <summary>Dirty bytes still to send; grows again when a pass finds more dirtied than it sent.</summary>
    public long Remaining { get; init; }

    public long Total { get; init; }
    public long Duplicate { get; init; }
    public long Skipped { get; init; }
    public long Normal { get; init; }
    public long NormalBytes { get; init; }

    /// <summary>Pages the guest dirties per second, measured over the last pass.</summary>
    public long DirtyPagesRate { get; init; }

    /// <summary>Megabits per second over the last pass.</summary>
    public double Mbps { get; init; }

    /// <summary>Passes over the dirty bitmap so far: 1 is the first full copy.</summary>
    public long DirtySyncCount { get; init; }

    public long PostcopyRequests { get; init; }
    public long PageSize { get; init; }

    /// <summary>Bytes sent over multifd channels.</summary>
    public long MultifdBytes { get; init; }

    public long PagesPerSecond { get; init; }
}
