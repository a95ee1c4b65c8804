namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Test-only: <c>LOCALMIGRATE_TEST_PAUSE_AT_PHASE=Perform</c> makes the daemon stop at that phase (journaled, not yet
/// acted) until the job is cancelled; <c>Confirm.SourceQuitSent</c> (any <see cref="ConfirmStep"/>) stops it right
/// after that step inside Confirm, for good. A fault test SIGKILLs the daemon exactly there.
/// </summary>
public sealed class EnvironmentPhaseGate : IMigrationPhaseGate
{
    public const string Variable = "LOCALMIGRATE_TEST_PAUSE_AT_PHASE";

    private readonly MigrationPhase? _phase;
    private readonly ConfirmStep? _step;

    public EnvironmentPhaseGate(MigrationPhase pauseAt) => _phase = pauseAt;

    public EnvironmentPhaseGate(ConfirmStep pauseAfter) => _step = pauseAfter;

    public static IMigrationPhaseGate FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    public static IMigrationPhaseGate Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return new OpenPhaseGate();
        const string ConfirmPrefix = "Confirm.";
        if (value.StartsWith(ConfirmPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var step = value[ConfirmPrefix.Length..];
            return Enum.TryParse<ConfirmStep>(step, ignoreCase: true, out var s) && Enum.IsDefined(s) && !int.TryParse(step, out _)
                ? new EnvironmentPhaseGate(s)
                : throw new ArgumentException($"{Variable}: '{step}' is not a step of Confirm ({string.Join(", ", Enum.GetNames<ConfirmStep>())})");
        }
        return Enum.TryParse<MigrationPhase>(value, ignoreCase: true, out var phase) && Enum.IsDefined(phase) && !int.TryParse(value, out _)
            ? new EnvironmentPhaseGate(phase)
            : throw new ArgumentException($"{Variable}: '{value}' is not a phase (Begin, Prepare, Perform, Finish, Confirm) or Confirm.STEP");
    }

    public async ValueTask OnEnterAsync(MigrationJob job, MigrationPhase phase, CancellationToken cancellationToken)
    {
        if (phase == _phase)
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask OnConfirmStepAsync(MigrationJob job, ConfirmStep step)
    {
        if (step == _step)
            await Task.Delay(Timeout.Infinite, CancellationToken.None).ConfigureAwait(false);
    }
}
