using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Holds a job at one phase (journaled, not yet acted) until released or cancelled.</summary>
internal sealed class HeldPhaseGate(MigrationPhase holdAt) : IMigrationPhaseGate
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Reached => _reached.Task;

    public void Release() => _release.TrySetResult();

    public async ValueTask OnEnterAsync(MigrationJob job, MigrationPhase phase, CancellationToken cancellationToken)
    {
        if (phase != holdAt)
            return;
        _reached.TrySetResult();
        await _release.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
