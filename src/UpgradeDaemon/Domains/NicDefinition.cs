namespace LocalMigrate.UpgradeDaemon.Domains;

/// <param name="Type">"user" (QEMU's user-mode network), "bridge" (a tap the daemon creates on <see cref="Bridge"/>) or
/// "tap" (an existing tap <see cref="Tap"/> the operator manages).</param>
/// <param name="Model">The guest device, e.g. virtio-net-pci.</param>
/// <param name="Mac">Guest ABI: kept across migrations; generated at define time when absent.</param>
public sealed record NicDefinition(string Type, string Model, string Mac)
{
    public const string UserType = "user";
    public const string BridgeType = "bridge";
    public const string TapType = "tap";

    /// <summary>The bridge the daemon's tap joins (type bridge); on a remote destination, the bridge of that name there.</summary>
    public string? Bridge { get; init; }

    /// <summary>The operator's tap (type tap): it must exist, persistent, when the domain starts.</summary>
    public string? Tap { get; init; }

    /// <summary>A tap backend (bridge or tap): QEMU gets an open fd of it from the daemon.</summary>
    public bool UsesTap => Type is BridgeType or TapType;
}
