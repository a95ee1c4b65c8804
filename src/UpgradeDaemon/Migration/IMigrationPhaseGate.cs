namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Called when a job enters a phase, after the phase is journaled and before it acts. Production uses
/// <see cref="OpenPhaseGate"/>; fault tests hold a job at a named phase to cancel it or kill the daemon there.
/// </summary>
public interface IMigrationPhaseGate
{
    ValueTask OnEnterAsync(MigrationJob job, MigrationPhase phase, CancellationToken cancellationToken);
}
