using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>Peer.Prepare's options as this destination understood them (see PeerContract.PrepareKeys).</summary>
internal sealed record PrepareOptions
{
    public bool Persistent { get; init; } = true;
    public bool Resume { get; init; } = true;
    public bool Offline { get; init; }
    public IReadOnlyList<MigrationCapability> Capabilities { get; init; } = [];
}
