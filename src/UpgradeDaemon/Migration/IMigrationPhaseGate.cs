namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Called when a job enters a phase, after the phase is journaled and before it acts, and at each step inside Confirm.
/// Production uses <see cref="OpenPhaseGate"/>; fault tests hold a job at a named phase or step to cancel it or kill
/// the daemon there.
/// </summary>
public interface IMigrationPhaseGate
{
    ValueTask OnEnterAsync(MigrationJob job, MigrationPhase phase, CancellationToken cancellationToken);

    /// <summary>After <paramref name="step"/> of Confirm is done. Confirm cannot be cancelled: nothing here may stop it but a crash.</summary>
    ValueTask OnConfirmStepAsync(MigrationJob job, ConfirmStep step) => ValueTask.CompletedTask;
}
