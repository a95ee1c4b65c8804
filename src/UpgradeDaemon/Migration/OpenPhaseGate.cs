namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>Lets every phase through at once.</summary>
public sealed class OpenPhaseGate : IMigrationPhaseGate
{
    public ValueTask OnEnterAsync(MigrationJob job, MigrationPhase phase, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
