using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>
/// The recovery decision as a table: named rows for the states a crash really leaves (each step of Confirm among
/// them), then every combination of journal phase, source and target state, checked against the rules that must hold
/// whatever the input: at most one instance kept, it holds the guest, nothing deaf is killed, success only on the target.
/// </summary>
public sealed class RecoveryPlannerTests
{
    private const string Src = "5000aaaa";
    private const string Dst = "d000bbbb";

    private static ObservedInstance Up(string id, QemuRunState run, QemuMigrationStatus migration, InstanceRole role) =>
        new(id, InstanceLiveness.Answering, run, migration, role);

    private static ObservedInstance Gone(string id, InstanceRole role) => new(id, InstanceLiveness.Gone, QemuRunState.Paused, QemuMigrationStatus.None, role);

    private static ObservedInstance Deaf(string id, InstanceRole role) => new(id, InstanceLiveness.Deaf, QemuRunState.Paused, QemuMigrationStatus.None, role);

    private static RecoveryInput Job(MigrationPhase? phase, params ObservedInstance[] instances) =>
        new(phase, Src, phase >= MigrationPhase.Prepare ? Dst : null, SourceWasRunning: true, Settled: false, instances);

    private static readonly ObservedInstance SourceRunning = Up(Src, QemuRunState.Running, QemuMigrationStatus.None, InstanceRole.Active);
    private static readonly ObservedInstance SourceSending = Up(Src, QemuRunState.Running, QemuMigrationStatus.InFlight, InstanceRole.Active);
    private static readonly ObservedInstance SourcePostmigrate = Up(Src, QemuRunState.Postmigrate, QemuMigrationStatus.Completed, InstanceRole.Active);
    private static readonly ObservedInstance SourceCancelled = Up(Src, QemuRunState.Running, QemuMigrationStatus.Cancelled, InstanceRole.Active);
    private static readonly ObservedInstance TargetWaiting = Up(Dst, QemuRunState.Inmigrate, QemuMigrationStatus.None, InstanceRole.Incoming);
    private static readonly ObservedInstance TargetLoading = Up(Dst, QemuRunState.Inmigrate, QemuMigrationStatus.InFlight, InstanceRole.Incoming);
    private static readonly ObservedInstance TargetRunning = Up(Dst, QemuRunState.Running, QemuMigrationStatus.Completed, InstanceRole.Incoming);
    private static readonly ObservedInstance TargetPromoted = TargetRunning with { RoleOnDisk = InstanceRole.Active };

    /// <summary>name, input, then the expected keep (null: none), cont, kill, outcome, domain state.</summary>
    public static TheoryData<string, RecoveryInput, string?, bool, string[], RecoveryOutcome, DomainState> Rows() => new()
    {
        // Held at each phase, as DaemonCrashTests does it for real.
        { "Begin, source runs", Job(MigrationPhase.Begin, SourceRunning), Src, false, [], RecoveryOutcome.RolledBack, DomainState.Running },
        { "Prepare, target spawned", Job(MigrationPhase.Prepare, SourceRunning, TargetWaiting), Src, false, [Dst], RecoveryOutcome.RolledBack, DomainState.Running },
        { "Prepare, target claims the guest (impossible): ignored", Job(MigrationPhase.Prepare, SourceRunning, TargetRunning), Src, false, [Dst], RecoveryOutcome.RolledBack, DomainState.Running },
        { "Perform, stream in flight: settle first", Job(MigrationPhase.Perform, SourceSending, TargetLoading), null, false, [], RecoveryOutcome.Undecided, DomainState.Starting },
        { "Perform, settled by cancel", Job(MigrationPhase.Perform, SourceCancelled) with { Settled = true }, Src, false, [], RecoveryOutcome.RolledBack, DomainState.Running },
        { "Perform, completed before the cancel", Job(MigrationPhase.Perform, SourcePostmigrate, TargetRunning) with { Settled = true }, Dst, false, [Src], RecoveryOutcome.Completed, DomainState.Running },
        { "Perform, sent but target died", Job(MigrationPhase.Perform, SourcePostmigrate, Gone(Dst, InstanceRole.Incoming)), Src, true, [], RecoveryOutcome.RolledBack, DomainState.Running },
        { "Finish, target runs", Job(MigrationPhase.Finish, SourcePostmigrate, TargetRunning), Dst, false, [Src], RecoveryOutcome.Completed, DomainState.Running },
        { "Finish, target still loading: settle", Job(MigrationPhase.Finish, SourcePostmigrate, TargetLoading), null, false, [], RecoveryOutcome.Undecided, DomainState.Starting },
        { "Finish, target never loaded", Job(MigrationPhase.Finish, SourcePostmigrate, TargetWaiting) with { Settled = true }, Src, true, [Dst], RecoveryOutcome.RolledBack, DomainState.Running },
        // Each step of Confirm.
        { "Confirm journaled", Job(MigrationPhase.Confirm, SourcePostmigrate, TargetRunning), Dst, false, [Src], RecoveryOutcome.Completed, DomainState.Running },
        { "Confirm, target file says active (issue 11)", Job(MigrationPhase.Confirm, SourcePostmigrate, TargetPromoted), Dst, false, [Src], RecoveryOutcome.Completed, DomainState.Running },
        { "Confirm, source got quit, is gone, dir left", Job(MigrationPhase.Confirm, Gone(Src, InstanceRole.Active), TargetPromoted), Dst, false, [], RecoveryOutcome.Completed, DomainState.Running },
        { "Confirm, source dir removed", Job(MigrationPhase.Confirm, TargetPromoted), Dst, false, [], RecoveryOutcome.Completed, DomainState.Running },
        { "Confirm, target died after the switch", Job(MigrationPhase.Confirm, SourcePostmigrate, Gone(Dst, InstanceRole.Active)), Src, true, [], RecoveryOutcome.RolledBack, DomainState.Running },
        { "Confirm, both gone", Job(MigrationPhase.Confirm, Gone(Src, InstanceRole.Active), Gone(Dst, InstanceRole.Active)), null, false, [], RecoveryOutcome.Lost, DomainState.Crashed },
        { "Confirm, target deaf", Job(MigrationPhase.Confirm, SourcePostmigrate, Deaf(Dst, InstanceRole.Active)), null, false, [], RecoveryOutcome.Undecided, DomainState.Unreachable },
        { "Perform, source gone, target waiting", Job(MigrationPhase.Perform, Gone(Src, InstanceRole.Active), TargetWaiting), null, false, [Dst], RecoveryOutcome.Lost, DomainState.Crashed },
        { "Confirm, leftover instance the job does not name is killed", Job(MigrationPhase.Confirm, SourcePostmigrate, TargetRunning, Up("0ther000", QemuRunState.Running, QemuMigrationStatus.None, InstanceRole.Active)), Dst, false, [Src, "0ther000"], RecoveryOutcome.Completed, DomainState.Running },
        // No journal record: QEMU's state decides, never the files alone.
        { "no job, one running", Job(null, SourceRunning), Src, false, [], RecoveryOutcome.NoJob, DomainState.Running },
        { "no job, paused by its user", Job(null, SourceRunning with { RunState = QemuRunState.Paused }), Src, false, [], RecoveryOutcome.NoJob, DomainState.Paused },
        { "no job, both files active: the running one wins", Job(null, SourcePostmigrate, TargetPromoted), Dst, false, [Src], RecoveryOutcome.NoJob, DomainState.Running },
        { "no job, running source and empty target", Job(null, SourceRunning, TargetWaiting), Src, false, [Dst], RecoveryOutcome.NoJob, DomainState.Running },
        { "no job, postmigrate alone resumes", Job(null, SourcePostmigrate, Gone(Dst, InstanceRole.Incoming)), Src, true, [], RecoveryOutcome.NoJob, DomainState.Running },
        { "no job, only an empty target", Job(null, TargetWaiting), null, false, [Dst], RecoveryOutcome.NoJob, DomainState.Shutoff },
        { "no job, active died", Job(null, Gone(Src, InstanceRole.Active)), null, false, [], RecoveryOutcome.NoJob, DomainState.Crashed },
        { "no job, deaf", Job(null, Deaf(Src, InstanceRole.Active), TargetWaiting), null, false, [Dst], RecoveryOutcome.Undecided, DomainState.Unreachable },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Decide_Row_KeepsKillsAndEndsAsTabled(string name, RecoveryInput input, string? keep, bool resume, string[] kill,
        RecoveryOutcome outcome, DomainState state)
    {
        var decision = RecoveryPlanner.Decide(input);
        var because = $"{name}: {input} => {decision}";
        Assert.True(keep == decision.Keep, because);
        Assert.True(resume == decision.Resume, because);
        Assert.True(kill.Order().SequenceEqual(decision.Kill.Order()), because);
        if (decision.Action == RecoveryAction.Resolve)
        {
            Assert.True(outcome == decision.Outcome, because);
            Assert.True(state == decision.State, because);
        }
        else
        {
            Assert.True(outcome == RecoveryOutcome.Undecided, because);
        }
    }

    private static readonly MigrationPhase?[] Phases = [null, MigrationPhase.Begin, MigrationPhase.Prepare, MigrationPhase.Perform, MigrationPhase.Finish, MigrationPhase.Confirm];

    private static IEnumerable<ObservedInstance?> Variants(string id, QemuRunState[] runStates, QemuMigrationStatus[] statuses, InstanceRole role)
    {
        yield return null;
        yield return Gone(id, role);
        yield return Deaf(id, role);
        foreach (var run in runStates)
        {
            foreach (var status in statuses)
                yield return Up(id, run, status, role);
        }
    }

    private static IEnumerable<ObservedInstance?> SourceVariants() => Variants(Src,
        [QemuRunState.Running, QemuRunState.Paused, QemuRunState.FinishMigrate, QemuRunState.Postmigrate],
        [QemuMigrationStatus.None, QemuMigrationStatus.InFlight, QemuMigrationStatus.Completed, QemuMigrationStatus.Failed, QemuMigrationStatus.Cancelled],
        InstanceRole.Active);

    private static IEnumerable<ObservedInstance?> TargetVariants() => Variants(Dst,
        [QemuRunState.Inmigrate, QemuRunState.Running, QemuRunState.Paused],
        [QemuMigrationStatus.None, QemuMigrationStatus.InFlight, QemuMigrationStatus.Completed, QemuMigrationStatus.Failed],
        InstanceRole.Incoming);

    /// <summary>Every phase × source state × target state; roles on disk, was-running and settled vary inside each row.</summary>
    public static IEnumerable<object?[]> EveryCombination()
    {
        var index = 0;
        foreach (var phase in Phases)
        {
            foreach (var source in SourceVariants())
            {
                foreach (var target in TargetVariants())
                    yield return [index++, phase, source, target];
            }
        }
    }

    [Theory]
    [MemberData(nameof(EveryCombination))]
    public void Decide_EveryCombination_KeepsAtMostTheOneHoldingTheGuest(int row, MigrationPhase? phase, ObservedInstance? source, ObservedInstance? target)
    {
        foreach (var targetRole in new[] { InstanceRole.Incoming, InstanceRole.Active })
        {
            foreach (var wasRunning in new[] { true, false })
            {
                foreach (var settled in new[] { false, true })
                {
                    var instances = new[] { source, target is null ? null : target with { RoleOnDisk = targetRole } }.OfType<ObservedInstance>().ToList();
                    var input = new RecoveryInput(phase, Src, phase >= MigrationPhase.Prepare ? Dst : null, wasRunning, settled, instances);
                    AssertRules(row, input, RecoveryPlanner.Decide(input));
                }
            }
        }
    }

    private static void AssertRules(int row, RecoveryInput input, RecoveryDecision decision)
    {
        var because = $"row {row}: {input} => {decision}";
        var answering = input.Instances.Where(i => i.IsAnswering).ToList();
        var inFlight = answering.Any(i => i.Migration == QemuMigrationStatus.InFlight);
        var deaf = input.Instances.Any(i => i.Liveness == InstanceLiveness.Deaf);

        // Settle only while a stream flows and only once; it touches nothing.
        Assert.True((decision.Action == RecoveryAction.Settle) == (inFlight && !input.Settled), because);
        if (decision.Action == RecoveryAction.Settle)
        {
            Assert.True(decision.Keep is null && decision.Kill.Count == 0 && !decision.Resume, because);
            return;
        }

        var kept = decision.Keep is null ? null : input.Find(decision.Keep);
        // Before Perform was journaled the job's target holds nothing, whatever it reports: the journal decides.
        bool Holds(ObservedInstance i) => i.HoldsGuest && !(input.Phase is MigrationPhase.Begin or MigrationPhase.Prepare && i.InstanceId == input.TargetInstanceId);
        // The one kept exists, answers and holds the guest; it is never killed; nothing deaf or gone is killed.
        Assert.True(decision.Keep is null || kept is { HoldsGuest: true }, because);
        Assert.DoesNotContain(decision.Keep, decision.Kill);
        Assert.True(decision.Kill.All(id => input.Find(id) is { IsAnswering: true }), because);
        Assert.Equal(decision.Kill.Count, decision.Kill.Distinct().Count());
        // Exactly one QEMU afterwards: with a keeper, every other answering instance goes.
        if (kept is not null)
            Assert.True(decision.Kill.Count == answering.Count - 1, because);
        // Without one, only instances holding no guest are killed.
        else
            Assert.True(decision.Kill.All(id => !Holds(input.Find(id)!)), because);
        // Something that might hold the guest and cannot be asked: nothing is decided.
        if (deaf)
            Assert.True(decision.Keep is null && decision.Outcome == RecoveryOutcome.Undecided && decision.State == DomainState.Unreachable, because);
        // A guest held somewhere is never given up for lost.
        if (!deaf && answering.Any(Holds))
            Assert.NotNull(decision.Keep);
        // Success only when the target holds it; before Perform was journaled the target can hold nothing.
        Assert.True((decision.Outcome == RecoveryOutcome.Completed) == (decision.Keep is not null && decision.Keep == input.TargetInstanceId), because);
        if (input.Phase is MigrationPhase.Begin or MigrationPhase.Prepare && input.TargetInstanceId is not null)
            Assert.NotEqual(input.TargetInstanceId, decision.Keep);
        if (input.Phase is null)
            Assert.True(decision.Outcome is RecoveryOutcome.NoJob or RecoveryOutcome.Undecided, because);
        // cont only for a stopped keeper; the state follows what the keeper will do.
        Assert.True(!decision.Resume || (kept is not null && kept.RunState != QemuRunState.Running), because);
        if (kept is not null)
            Assert.True(decision.State == (kept.RunState == QemuRunState.Running || decision.Resume ? DomainState.Running : DomainState.Paused), because);
        else
            Assert.True(decision.State is DomainState.Crashed or DomainState.Shutoff or DomainState.Unreachable, because);
        // With a journal, the files' roles never change the decision: the journal decides.
        if (input.Phase is not null)
        {
            var flipped = input with
            {
                Instances = input.Instances.Select(i => i with { RoleOnDisk = i.RoleOnDisk == InstanceRole.Active ? InstanceRole.Incoming : InstanceRole.Active }).ToList(),
            };
            var again = RecoveryPlanner.Decide(flipped);
            Assert.True(again.Keep == decision.Keep && again.Kill.SequenceEqual(decision.Kill) && again.Outcome == decision.Outcome, because);
        }
    }
}
