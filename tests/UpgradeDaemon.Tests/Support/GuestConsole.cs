using System.Globalization;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// Reads the domain's console log (one stream across instances) and parses the test guest's lines
/// (tests/guest/README.md): <c>LMTICK counter uptime boot-id</c>, <c>LMPATTERN OK n</c>, <c>LMPATTERN CORRUPT ...</c>.
/// </summary>
internal sealed class GuestConsole(string logPath)
{
    public sealed record Tick(long Counter, double Uptime, string BootId);

    public IReadOnlyList<string> Lines()
    {
        if (!File.Exists(logPath))
            return [];
        using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
    }

    public IReadOnlyList<Tick> Ticks()
    {
        var ticks = new List<Tick>();
        foreach (var line in Lines())
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 4 && parts[0] == "LMTICK"
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var counter)
                && double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var uptime)
                && parts[3].Length == 8)
                ticks.Add(new Tick(counter, uptime, parts[3]));
        }
        return ticks;
    }

    public Tick? LastTick() => Ticks().LastOrDefault();

    /// <summary>The disk writer's reports (<c>lm.disk=DEV</c>): every write up to the counter is on the disk.</summary>
    public IReadOnlyList<long> DiskWrites() => Lines()
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Where(p => p.Length == 3 && p[0] == "LMDISK" && p[2].Length == 8)
        .Select(p => long.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)
        .Where(n => n > 0).ToList();

    /// <summary>Waits until the disk writer reported a write beyond <paramref name="afterCounter"/> plus <paramref name="more"/>.</summary>
    public async Task<long> WaitForDiskWritesAsync(long afterCounter, int more, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var last = DiskWrites().LastOrDefault();
            if (last >= afterCounter + more)
                return last;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"guest reported no disk write past {afterCounter + more} within {timeout.TotalSeconds} s (last: {last}); console tail: {string.Join(" | ", Lines().TakeLast(5))}");
            await Task.Delay(50);
        }
    }

    public int PatternPasses() => Lines().Count(l => l.StartsWith("LMPATTERN OK", StringComparison.Ordinal));

    public IReadOnlyList<string> Corruptions() => Lines().Where(l => l.Contains("LMPATTERN CORRUPT", StringComparison.Ordinal)).ToList();

    /// <summary>Waits until the guest prints a tick beyond <paramref name="afterCounter"/> plus <paramref name="more"/>.</summary>
    public async Task<Tick> WaitForTicksAsync(long afterCounter, int more, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var last = LastTick();
            if (last is not null && last.Counter >= afterCounter + more)
                return last;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"guest printed no tick past {afterCounter + more} within {timeout.TotalSeconds} s (last: {last?.Counter.ToString() ?? "none"}); console tail: {string.Join(" | ", Lines().TakeLast(5))}");
            await Task.Delay(50);
        }
    }

    public async Task WaitForPatternPassesAsync(int passes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (PatternPasses() < passes)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"guest completed {PatternPasses()} RAM pattern passes, wanted {passes}; " +
                    $"{Corruptions().Count} corruption lines (first: {Corruptions().FirstOrDefault() ?? "none"}); console tail: {string.Join(" | ", Lines().TakeLast(5))}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The guest never rebooted and its counter never went back: one boot id, counters strictly increasing, uptime
    /// never decreasing. Returns the largest step between consecutive counters seen.
    /// </summary>
    public long AssertContinuous()
    {
        var ticks = Ticks();
        Assert.NotEmpty(ticks);
        Assert.Single(ticks.Select(t => t.BootId).Distinct());
        long largestStep = 0;
        for (var i = 1; i < ticks.Count; i++)
        {
            Assert.True(ticks[i].Counter > ticks[i - 1].Counter, $"counter went from {ticks[i - 1].Counter} to {ticks[i].Counter}");
            Assert.True(ticks[i].Uptime >= ticks[i - 1].Uptime, $"uptime went from {ticks[i - 1].Uptime} to {ticks[i].Uptime}");
            largestStep = Math.Max(largestStep, ticks[i].Counter - ticks[i - 1].Counter);
        }
        Assert.Empty(Corruptions());
        return largestStep;
    }
}
