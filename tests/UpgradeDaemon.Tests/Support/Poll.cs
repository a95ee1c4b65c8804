namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Waits for something another process or thread makes true, instead of sleeping a guessed time.</summary>
internal static class Poll
{
    /// <summary>Checks every 20 ms; fails the test, naming <paramref name="what"/>, once <paramref name="timeout"/> has passed.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(20);
        }
    }
}
