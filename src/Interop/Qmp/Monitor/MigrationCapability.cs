namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/migration.json <c>MigrationCapability</c> (QEMU 7.2 to 10.0; which exist depends on the version).</summary>
public enum MigrationCapability
{
    /// <summary>A value this build does not know; never sent.</summary>
    Unknown,
    Xbzrle,
    RdmaPinAll,
    AutoConverge,
    ZeroBlocks,
    /// <summary>Deprecated in 8.2, removed in 9.1.</summary>
    Compress,
    /// <summary>MIGRATION events: the daemon reacts to them instead of polling.</summary>
    Events,
    PostcopyRam,
    XColo,
    ReleaseRam,
    Block,
    ReturnPath,
    PauseBeforeSwitchover,
    Multifd,
    DirtyBitmaps,
    PostcopyBlocktime,
    LateBlockActivate,
    /// <summary>RAM in a shared memory backend is mapped by the target, not sent.</summary>
    XIgnoreShared,
    ValidateUuid,
    BackgroundSnapshot,
    ZeroCopySend,
    PostcopyPreempt,
    /// <summary>Since 8.1.</summary>
    SwitchoverAck,
    /// <summary>Since 8.1.</summary>
    DirtyLimit,
    /// <summary>Since 9.0.</summary>
    MappedRam,
}
