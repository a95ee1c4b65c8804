namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>A destination of an evacuation as its Hello described it.</summary>
/// <param name="Destination">The URI as the operator gave it.</param>
/// <param name="FreeBytes">Its MemAvailable when asked (Peer.Hello's memAvailableBytes).</param>
/// <param name="Unavailable">Why nothing can go there at all (unreachable, in maintenance); null when it can take guests.</param>
public sealed record EvacuationHost(string Destination, long FreeBytes, string? Unavailable = null);
