namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/migration.json <c>XBZRLECacheStats</c>: the <c>xbzrle-cache</c> member of <c>query-migrate</c>.</summary>
public sealed record MigrationXbzrleCacheStats
{
    public long CacheSize { get; init; }

    /// <summary>Bytes sent as xbzrle deltas: above zero means xbzrle was used.</summary>
    public long Bytes { get; init; }

    public long Pages { get; init; }
    public long CacheMiss { get; init; }
    public double CacheMissRate { get; init; }
    public double EncodingRate { get; init; }
    public long Overflow { get; init; }
}
