using System.Diagnostics;
using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class BusLoopTests
{
    /// <summary>
    /// The pattern of a D-Bus call: work on the loop completes a task whose continuation runs on the thread pool,
    /// then posts a follow-up to the loop itself (as a reply callback posts the unref of its slot). The awaiting
    /// side's next post so lands about when the loop wakes for the follow-up, between clearing its wake-up flag and
    /// reading its queue. A wake-up lost there leaves that work unrun until some later post, and none comes.
    /// </summary>
    [Fact]
    public async Task Post_CallLikeRoundTrips_EveryWorkItemRunsPromptly()
    {
        const int Callers = 4;
        const int Rounds = 25000;
        var loop = await BusLoop.StartAsync("bus-loop-test", _ => { }, () => { });
        try
        {
            var slowest = await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
            {
                var worst = TimeSpan.Zero;
                for (var i = 0; i < Rounds; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    Assert.True(loop.Post(() =>
                    {
                        ran.SetResult();
                        loop.Post(() => { });
                    }));
                    await ran.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    if (elapsed > worst)
                        worst = elapsed;
                }
                return worst;
            })));
            Assert.All(slowest, s => Assert.True(s < TimeSpan.FromSeconds(1), $"a round trip took {s.TotalMilliseconds:0} ms"));
        }
        finally
        {
            loop.RequestStop();
            await loop.Stopped.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
