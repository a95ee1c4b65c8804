namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The domain is not in a state that allows the request (not running, another job in progress).</summary>
public sealed class MigrationBusyException(string message) : Exception(message);
