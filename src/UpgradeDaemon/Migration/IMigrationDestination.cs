namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// The destination half of the protocol. <see cref="MigrationDst"/> plays it in this daemon (a local migration);
/// a remote migration puts a client of the peer daemon here, which runs its own MigrationDst.
/// </summary>
public interface IMigrationDestination
{
    /// <summary>Prepare: start the target with <c>-incoming defer</c>, shadow-register it, listen on the transport.</summary>
    Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken);

    /// <summary>Completes when the target process ends (a remote destination: when its daemon reports so).</summary>
    Task WhenTargetExits(string jobId);

    /// <summary>Finish: wait until the guest has arrived and runs on the target.</summary>
    /// <param name="resume">Start the guest on the target: one paused for the transfer arrives paused (QEMU's migrated run
    /// state) and would not start by itself. A remote destination resumes at Commit instead, as it always does.</param>
    Task<FinishResult> FinishAsync(string jobId, bool resume, CancellationToken cancellationToken);

    /// <summary>
    /// Confirm's first step: whether the target still runs the guest (query-status), asked before the source may go.
    /// </summary>
    /// <param name="guestRan">The guest ran before the job: the target must be running, not merely paused.</param>
    /// <returns>null when it does; otherwise why not, in an operator's words.</returns>
    Task<string?> VerifyTargetAsync(string jobId, bool guestRan, CancellationToken cancellationToken);

    /// <summary>Confirm's destination half: the target becomes the domain's one visible instance.</summary>
    Task CommitAsync(string jobId);

    /// <summary>Rollback: kill the target, drop its shadow entry and runtime dir. Safe to call in any state, twice.</summary>
    Task AbortAsync(string jobId);
}
