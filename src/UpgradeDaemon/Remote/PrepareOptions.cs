using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>Peer.Prepare's options as this destination understood them (see PeerContract.PrepareKeys).</summary>
internal sealed record PrepareOptions
{
    public bool Persistent { get; init; } = true;
    public bool Resume { get; init; } = true;
    public bool Offline { get; init; }

    /// <summary>Pre-flight only (see PeerContract.PrepareKeys.CheckOnly).</summary>
    public bool CheckOnly { get; init; }

    /// <summary>How the QEMU stream is protected: none, psk or x509.</summary>
    public StreamSecurity Security { get; init; } = StreamSecurity.None;

    /// <summary>The PSK the source made for this migration (psk only).</summary>
    public byte[]? PskKey { get; init; }

    /// <summary>Capabilities the source turns on that the receiving side must match (multifd, postcopy-ram).</summary>
    public IReadOnlyList<MigrationCapability> Capabilities { get; init; } = [];

    /// <summary>Storage copy: PeerContract.PrepareKeys.CopyDisks and CopyBackings as sent (read against the definition).</summary>
    public IReadOnlyList<string> CopyDisks { get; init; } = [];

    public IReadOnlyList<string> CopyBackings { get; init; } = [];

    /// <summary>The source's snapshot records (PeerContract.PrepareKeys.Snapshots); null when it sent none.</summary>
    public IReadOnlyList<Snapshots.SnapshotRecord>? Snapshots { get; init; }

    public int? MultifdChannels { get; init; }
    public MultifdCompression? MultifdCompression { get; init; }

    /// <summary>The target's tuning: every managed capability on or off, and the multifd parameters.</summary>
    public MigrationSideTuning TargetTuning =>
        new(MigrationTuning.Managed.Select(c => new MigrationCapabilityStatus(c, c == MigrationCapability.Events || Capabilities.Contains(c))).ToList(),
            new MigrationParameters { MultifdChannels = MultifdChannels, MultifdCompression = MultifdCompression });
}
