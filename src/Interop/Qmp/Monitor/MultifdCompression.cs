namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/migration.json <c>MultiFDCompression</c>: how multifd channels compress pages (both sides must agree).</summary>
public enum MultifdCompression
{
    /// <summary>A value this build does not know; never sent.</summary>
    Unknown,
    None,
    Zlib,
    /// <summary>Only in builds with zstd (Debian's have it).</summary>
    Zstd,
}
