namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Waits for something another process or thread makes true, instead of sleeping a guessed time.</summary>
internal static class Poll
{
    /// <summary>Checks every 20 ms; fails the test, naming <paramref name="what"/>, once <paramref name="timeout"/> has passed.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>The same for a condition that asks another process (a CLI call, a bus call).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(20);
        }
    }
}
