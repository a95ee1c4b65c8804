namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>Refused because this host is in maintenance (org.localmigrate1.Error.Refused); the message says how to leave it.</summary>
public sealed class HostMaintenanceException(string message) : Exception(message);
