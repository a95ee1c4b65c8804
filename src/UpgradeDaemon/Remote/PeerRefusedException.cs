namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>A destination's pre-flight said no (org.localmigrate1.Error.Refused): the message names the host and the reason.</summary>
public sealed class PeerRefusedException(string message) : Exception(message);
