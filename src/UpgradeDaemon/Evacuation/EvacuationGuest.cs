namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>A running domain to move, and the RAM it takes on its destination (guest RAM and QEMU's own).</summary>
public sealed record EvacuationGuest(string Name, long Bytes);
