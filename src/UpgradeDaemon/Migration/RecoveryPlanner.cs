using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// The one decision of recovery after a daemon restart, as a pure function (libvirt's qemuProcessRecoverMigration):
/// which instance of a domain holds the newest guest, which to kill, how the job ends. One record decides: the job's
/// journal names source and target; instance.json roles never promote an instance on their own; without a journal
/// record, QEMU's own state decides. <see cref="MigrationRecovery"/> observes, asks this, and acts.
/// </summary>
public static class RecoveryPlanner
{
    public static RecoveryDecision Decide(RecoveryInput input)
    {
        var answering = input.Instances.Where(i => i.IsAnswering).ToList();

        // Nobody will drive a stream to Confirm any more: every one still flowing is cancelled and waited for first,
        // so the decision below never races a switch-over.
        if (!input.Settled && answering.Any(i => i.Migration == QemuMigrationStatus.InFlight))
            return RecoveryDecision.Settle("a migration stream is still in flight: cancel it and look again");

        // An instance that cannot be asked may hold the guest: nothing that might hold it is touched.
        var deaf = input.Instances.Where(i => i.Liveness == InstanceLiveness.Deaf).Select(i => i.InstanceId).ToList();
        if (deaf.Count > 0)
            return Undecided(answering, $"instance {string.Join(", ", deaf)} runs but does not answer on QMP; nothing that may hold the guest was touched");

        if (input.Phase is not { } phase)
            return DecideByQemu(input, answering);

        var source = input.Find(input.SourceInstanceId);
        var target = input.Find(input.TargetInstanceId);
        var sourceHolds = source?.HoldsGuest == true;
        var targetHolds = target?.HoldsGuest == true;
        switch (phase)
        {
            case MigrationPhase.Begin:
                // Validation only; at most capabilities were set. There is no target yet: the source is the guest.
                return sourceHolds ? KeepSource(input, answering, source!, "rolled back, the guest runs on the source") : Lost(input, answering);

            case MigrationPhase.Prepare:
                // A target may have been spawned, but Perform is journaled before migrate is sent: whatever the target
                // reports, not one byte of the guest reached it. The source is the guest.
                return sourceHolds ? KeepSource(input, answering, source!, "rolled back, the guest runs on the source") : Lost(input, answering);

            case MigrationPhase.Perform:
                // The stream ran and is over now (settled above). A target that loaded it in full took the guest at
                // the switch-over, where the source stopped for good: the target is newest. Otherwise the source is.
                if (targetHolds)
                    return KeepTarget(input, answering, target!);
                return sourceHolds ? KeepSource(input, answering, source!, "rolled back, the guest runs on the source") : Lost(input, answering);

            case MigrationPhase.Finish:
                // The source sent everything and sits in postmigrate; the target was loading or already running it.
                // A target that holds it is newest; a target that died or never loaded leaves the source's intact copy.
                if (targetHolds)
                    return KeepTarget(input, answering, target!);
                return sourceHolds
                    ? KeepSource(input, answering, source!, "rolled back: the target QEMU never held the guest, which resumed on the source")
                    : Lost(input, answering);

            case MigrationPhase.Confirm:
                // The commit was journaled, but a journal line holds no guest: the target wins only while it runs. One
                // that died since leaves the stopped source (postmigrate) as the only copy: it resumes from the switch-over.
                // Whether the promote reached instance.json, or the source already got quit, does not matter here.
                if (targetHolds)
                    return KeepTarget(input, answering, target!);
                return sourceHolds
                    ? KeepSource(input, answering, source!, "rolled back: the target QEMU ended after the switch-over, the guest resumed on the source")
                    : Lost(input, answering);

            default:
                throw new ArgumentOutOfRangeException(nameof(input), phase, "not a migration phase");
        }
    }

    /// <summary>
    /// No journal speaks for the domain: QEMU's state decides. The one running wins; a stopped copy beside a running
    /// one is the old one (a postmigrate or paused source beside its running target). A target still in inmigrate
    /// holds nothing. Ties go to the instance whose file says active, then to the lowest instance id, so the
    /// decision never depends on the order the dirs were read in.
    /// </summary>
    private static RecoveryDecision DecideByQemu(RecoveryInput input, IReadOnlyList<ObservedInstance> answering)
    {
        var keeper = answering.Where(i => i.HoldsGuest)
            .OrderBy(i => Rank(i.RunState))
            .ThenBy(i => i.RoleOnDisk == InstanceRole.Active ? 0 : 1)
            .ThenBy(i => i.InstanceId, StringComparer.Ordinal)
            .FirstOrDefault();
        if (keeper is null)
        {
            var wasActive = input.Instances.Any(i => i.RoleOnDisk == InstanceRole.Active);
            return new RecoveryDecision(RecoveryAction.Resolve, null, false, Ids(answering), RecoveryOutcome.NoJob,
                wasActive ? DomainState.Crashed : DomainState.Shutoff,
                wasActive ? "its QEMU ended while no daemon watched" : "no instance holds the guest");
        }
        // Only a migration leaves QEMU in postmigrate or finish-migrate: the guest ran and must run again.
        var resume = keeper.RunState is QemuRunState.Postmigrate or QemuRunState.FinishMigrate;
        return Keep(keeper, resume, answering, RecoveryOutcome.NoJob,
            answering.Count > 1 ? $"kept {keeper.InstanceId} ({keeper.RunState}), the newest of {answering.Count} instances" : "adopted");
    }

    private static int Rank(QemuRunState state) => state switch
    {
        QemuRunState.Running => 0,
        QemuRunState.Paused => 1,
        _ => 2,
    };

    private static RecoveryDecision KeepTarget(RecoveryInput input, IReadOnlyList<ObservedInstance> answering, ObservedInstance target) =>
        Keep(target, input.SourceWasRunning && target.RunState != QemuRunState.Running, answering, RecoveryOutcome.Completed,
            "the target holds the guest");

    private static RecoveryDecision KeepSource(RecoveryInput input, IReadOnlyList<ObservedInstance> answering, ObservedInstance source, string reason) =>
        Keep(source, input.SourceWasRunning && source.RunState != QemuRunState.Running, answering, RecoveryOutcome.RolledBack, reason);

    /// <summary>Neither the job's source nor its target holds the guest. An instance the job does not name may still: kept.</summary>
    private static RecoveryDecision Lost(RecoveryInput input, IReadOnlyList<ObservedInstance> answering)
    {
        var named = new[] { input.SourceInstanceId, input.TargetInstanceId };
        var other = DecideByQemu(input with { Instances = input.Instances.Where(i => !named.Contains(i.InstanceId)).ToList() },
            answering.Where(i => !named.Contains(i.InstanceId)).ToList());
        if (other.Keep is not null)
            return Keep(answering.Single(i => i.InstanceId == other.Keep), other.Resume, answering, RecoveryOutcome.Lost,
                $"neither the source nor the target holds the guest; instance {other.Keep}, which the job does not name, does and was kept");
        return new RecoveryDecision(RecoveryAction.Resolve, null, false, Ids(answering), RecoveryOutcome.Lost, DomainState.Crashed,
            "no QEMU instance holds the guest any more");
    }

    private static RecoveryDecision Undecided(IReadOnlyList<ObservedInstance> answering, string reason) =>
        new(RecoveryAction.Resolve, null, false, Ids(answering.Where(i => !i.HoldsGuest)), RecoveryOutcome.Undecided,
            DomainState.Unreachable, reason);

    private static RecoveryDecision Keep(ObservedInstance keeper, bool resume, IReadOnlyList<ObservedInstance> answering,
        RecoveryOutcome outcome, string reason) =>
        new(RecoveryAction.Resolve, keeper.InstanceId, resume, Ids(answering.Where(i => i != keeper)), outcome,
            keeper.RunState == QemuRunState.Running || resume ? DomainState.Running : DomainState.Paused, reason);

    private static IReadOnlyList<string> Ids(IEnumerable<ObservedInstance> instances) => instances.Select(i => i.InstanceId).ToList();
}
