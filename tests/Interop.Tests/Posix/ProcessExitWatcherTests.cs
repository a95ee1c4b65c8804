using LocalMigrate.Interop.Posix;

namespace LocalMigrate.Interop.Tests.Posix;

/// <summary>Real processes (sleep), watched through the one shared pidfd poll thread.</summary>
public sealed class ProcessExitWatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Exited_ManyProcessesKilledOutOfOrder_CompletesForExactlyTheKilledOnes()
    {
        var processes = Enumerable.Range(0, 12).Select(_ => SleeperProcess.Start()).ToList();
        var watchers = processes.Select(p => ProcessExitWatcher.TryOpen(p.Id)!).ToList();
        try
        {
            foreach (var i in new[] { 7, 2, 11, 0, 5 })
            {
                processes[i].Kill();
                Assert.True(await watchers[i].WaitAsync(Deadline), $"watcher {i} saw its process exit");
            }
            // Give a wrong completion a moment to show up before checking the survivors.
            await Task.Delay(200);
            var killed = new HashSet<int> { 7, 2, 11, 0, 5 };
            for (var i = 0; i < processes.Count; i++)
                Assert.Equal(killed.Contains(i), watchers[i].HasExited);
        }
        finally
        {
            foreach (var p in processes)
                p.Dispose();
            foreach (var w in watchers)
                w.Dispose();
        }
    }

    [Fact]
    public async Task Dispose_ThenNewWatcherOnTheReusedFdNumber_NewWatcherStillSeesItsOwnExit()
    {
        using var first = SleeperProcess.Start();
        using var second = SleeperProcess.Start();
        var firstWatcher = ProcessExitWatcher.TryOpen(first.Id)!;
        firstWatcher.Dispose();
        Assert.True(await firstWatcher.WaitAsync(Deadline), "a disposed watcher completes");
        // The poller closed the first pidfd, so the kernel hands out its number again here.
        using var secondWatcher = ProcessExitWatcher.TryOpen(second.Id)!;
        firstWatcher.Dispose(); // a second dispose must not release the new watch that now has that fd number
        await Task.Delay(300);
        Assert.False(secondWatcher.HasExited);
        second.Kill();
        Assert.True(await secondWatcher.WaitAsync(Deadline));
    }

    [Fact]
    public void TryOpen_ProcessAlreadyGone_ReturnsNull()
    {
        using var p = SleeperProcess.Start();
        p.KillAndReap();
        Assert.Null(ProcessExitWatcher.TryOpen(p.Id));
    }
}
