namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>The request does not fit the domain's state (already running, not running, a job in progress).</summary>
public sealed class DomainBusyException(string message) : Exception(message);
