namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// Everything recovery decides one domain from: the journal of its running job (if any) and every instance found.
/// </summary>
/// <param name="Phase">The journaled phase of the domain's running job; null when no journal record speaks for the domain.</param>
/// <param name="SourceInstanceId">The job's source, as journaled.</param>
/// <param name="TargetInstanceId">The job's target, as journaled (null before Prepare spawned one).</param>
/// <param name="SourceWasRunning">The guest ran when the job began: only then is a stopped source resumed.</param>
/// <param name="Settled">In-flight streams were already cancelled and waited for: decide with what is left.</param>
public sealed record RecoveryInput(MigrationPhase? Phase, string? SourceInstanceId, string? TargetInstanceId,
    bool SourceWasRunning, bool Settled, IReadOnlyList<ObservedInstance> Instances)
{
    public ObservedInstance? Find(string? instanceId) =>
        instanceId is null ? null : Instances.FirstOrDefault(i => i.InstanceId == instanceId);

    public override string ToString() =>
        $"phase {Phase?.ToString() ?? "none"}, source {SourceInstanceId ?? "-"}, target {TargetInstanceId ?? "-"}, wasRunning {SourceWasRunning}, settled {Settled}: " +
        string.Join("; ", Instances.Select(i => $"{i.InstanceId} {i.Liveness} {i.RunState} {i.Migration} {i.RoleOnDisk}"));
}
