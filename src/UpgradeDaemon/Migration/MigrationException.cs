namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>A migration failed in <see cref="Phase"/>; the message says why in an operator's words.</summary>
public sealed class MigrationException(MigrationPhase phase, string message, Exception? inner = null)
    : Exception($"{phase}: {message}", inner)
{
    public MigrationPhase Phase { get; } = phase;
}
