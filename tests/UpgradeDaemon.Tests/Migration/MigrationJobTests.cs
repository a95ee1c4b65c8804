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
        job.ReportProgress(MigrationProgress.None with { Total = 1000, Remaining = 250 });
        Assert.Equal(75, job.Progress);
        Assert.Contains("DataRemaining", seen);
        job.End(MigrationJobState.Completed, null);
        Assert.True(job.Completion.IsCompletedSuccessfully);
        Assert.Contains("State", seen);
    }

    [Fact]
    public void ReportProgress_RemainingGrowsAgain_ProgressFollowsItDown()
    {
        var job = NewJob();
        job.ReportProgress(MigrationProgress.None with { Total = 1000, Remaining = 100, Passes = 16 });
        Assert.Equal(90, job.Progress);
        job.ReportProgress(MigrationProgress.None with { Total = 1000, Remaining = 400, Passes = 17 });
        Assert.Equal(60, job.Progress);
        Assert.Equal(400, job.DataRemaining);
        Assert.Equal(17, job.LastProgress.Passes);
    }
}
