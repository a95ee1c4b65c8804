namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/block-core.json <c>MirrorSyncMode</c>, the values the daemon sends.</summary>
public enum MirrorSync
{
    Unknown,

    /// <summary>Every byte the guest sees, backing chain included.</summary>
    Full,

    /// <summary>Only the top layer: the target already has the backing chain.</summary>
    Top,
}
