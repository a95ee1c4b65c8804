namespace LocalMigrate.UpgradeDaemon.Domains;

/// <param name="Type">"user" (QEMU's user-mode network) is the one backend both instances of a local migration can hold at once.</param>
/// <param name="Model">The guest device, e.g. virtio-net-pci.</param>
/// <param name="Mac">Guest ABI: kept across migrations; generated at define time when absent.</param>
public sealed record NicDefinition(string Type, string Model, string Mac);
