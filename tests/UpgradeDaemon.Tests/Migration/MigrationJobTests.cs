using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

public sealed class MigrationJobTests
{
    private static MigrationJob NewJob() => new("vm", Guid.NewGuid(), MigrationKind.Local, new MigrationOptions());

    [Fact]
    public void EnterPhase_Backwards_Throws()
    {
        var job = NewJob();
        job.EnterPhase(MigrationPhase.Perform);
        Assert.Throws<InvalidOperationException>(() => job.EnterPhase(MigrationPhase.Prepare));
        Assert.Equal(MigrationPhase.Perform, job.Phase);
    }

    [Fact]
    public void RequestCancel_BeforeFinish_IsAcceptedAndAfterFinishRefused()
    {
        var early = NewJob();
        early.EnterPhase(MigrationPhase.Perform);
        Assert.Null(early.RequestCancel());
        Assert.True(early.CancellationToken.IsCancellationRequested);

        var late = NewJob();
        late.EnterPhase(MigrationPhase.Finish);
        Assert.Contains("too late", late.RequestCancel());
        Assert.False(late.CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public void Changed_NamesTheMovedPropertiesAndAThrowingListenerIsContained()
    {
        var job = NewJob();
        var seen = new List<string>();
        job.Changed += (_, names) => seen.AddRange(names);
        job.Changed += (_, _) => throw new InvalidOperationException("listener bug");
        job.ReportProgress(1000, 250);
        Assert.Equal(75, job.Progress);
        Assert.Contains("DataRemaining", seen);
        job.End(MigrationJobState.Completed, null);
        Assert.True(job.Completion.IsCompletedSuccessfully);
        Assert.Contains("State", seen);
    }
}
