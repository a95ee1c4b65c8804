using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class BusLoopTests
{
    /// <summary>
    /// The pattern of a D-Bus call: work on the loop completes a task whose continuation runs on the thread pool,
    /// then posts a follow-up to the loop itself (as a reply callback posts the unref of its slot). The awaiting
    /// side's next post so lands about when the loop wakes for the follow-up, between clearing its wake-up flag and
    /// reading its queue. A wake-up lost there leaves that work unrun until some later post; near the end of the
    /// run none comes, and the wait times out. (The bound is generous: other tests of the process may starve the
    /// thread pool for a second or two; a lost wake-up waits forever.)
    /// </summary>
    [Fact]
    public async Task Post_CallLikeRoundTrips_EveryWorkItemRuns()
    {
        const int Callers = 4;
        const int Rounds = 25000;
        var loop = await BusLoop.StartAsync("bus-loop-test", _ => { }, () => { });
        try
        {
            var completed = await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
            {
                var rounds = 0;
                for (var i = 0; i < Rounds; i++)
                {
                    var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    Assert.True(loop.Post(() =>
                    {
                        ran.SetResult();
                        loop.Post(() => { });
                    }));
                    await ran.Task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                    rounds++;
                }
                return rounds;
            })));
            Assert.All(completed, n => Assert.Equal(Rounds, n));
        }
        finally
        {
            loop.RequestStop();
            await loop.Stopped.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
