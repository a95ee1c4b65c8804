namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>Salt's <c>comp_methods</c>: which compression a <c>compressed</c> migration uses.</summary>
[Flags]
public enum MigrationCompressMethods
{
    None = 0,

    /// <summary>"mt": multi-threaded compression, done by multifd channels (zstd or zlib); QEMU's old compress capability is never used.</summary>
    Mt = 1,

    /// <summary>"xbzrle": pages sent as deltas against a cache of what was sent before (source-side cache).</summary>
    Xbzrle = 2,
}
