namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Test-only: <c>LOCALMIGRATE_TEST_PAUSE_AT_PHASE=Perform</c> makes the daemon stop at that phase (journaled,
/// not yet acted) until the job is cancelled, so a fault test can SIGKILL the daemon exactly there.
/// </summary>
public sealed class EnvironmentPhaseGate(MigrationPhase pauseAt) : IMigrationPhaseGate
{
    public const string Variable = "LOCALMIGRATE_TEST_PAUSE_AT_PHASE";

    public static IMigrationPhaseGate FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(value))
            return new OpenPhaseGate();
        return Enum.TryParse<MigrationPhase>(value, ignoreCase: true, out var phase)
            ? new EnvironmentPhaseGate(phase)
            : throw new ArgumentException($"{Variable}: '{value}' is not a phase (Begin, Prepare, Perform, Finish, Confirm)");
    }

    public async ValueTask OnEnterAsync(MigrationJob job, MigrationPhase phase, CancellationToken cancellationToken)
    {
        if (phase == pauseAt)
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }
}
