using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>
/// Long run (trait Category=Soak): 100 consecutive local migrations of one VM through the real daemon, the guest
/// checking its RAM throughout; the daemon's file descriptors and memory must stay flat.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int Migrations = 100;

    [Fact]
    [Trait("Category", "Soak")]
    public async Task Migrate_HundredTimesInARow_GuestIntactAndDaemonResourcesSteady()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var console = await daemon.BootGuestAsync("soak", 256, "shared", patternMiB: 32);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(60));
        (int Fds, long RssKiB) warm = default;
        var downtimes = new List<long>();
        var totals = new List<long>();
        for (var i = 1; i <= Migrations; i++)
        {
            var result = await daemon.CliAsync("migrate", "soak", "--json");
            Assert.True(result.ExitCode == 0, $"migration {i}: {result}");
            var json = JsonDocument.Parse(result.Stdout).RootElement;
            downtimes.Add(json.GetProperty("downtimeMs").GetInt64());
            totals.Add(json.GetProperty("totalMs").GetInt64());
            if (i == 10)
                warm = Resources(daemon.Pid);
        }
        var end = Resources(daemon.Pid);
        downtimes.Sort();
        totals.Sort();
        output.WriteLine($"{Migrations} migrations: downtime median {downtimes[Migrations / 2]} ms max {downtimes[^1]} ms; " +
                         $"total median {totals[Migrations / 2]} ms max {totals[^1]} ms; daemon fds {warm.Fds} -> {end.Fds}, RSS {warm.RssKiB} -> {end.RssKiB} KiB");
        Assert.Single(daemon.QemuProcesses());
        Assert.InRange(end.Fds, warm.Fds - 5, warm.Fds + 5);
        Assert.True(end.RssKiB - warm.RssKiB < 40 * 1024, $"daemon RSS grew {end.RssKiB - warm.RssKiB} KiB over {Migrations - 10} migrations");
        var passes = console.PatternPasses();
        await console.WaitForPatternPassesAsync(passes + 1, TimeSpan.FromSeconds(60));
        console.AssertContinuous();
        Assert.Single(Directory.GetDirectories(daemon.RuntimeDirectory), d => Path.GetFileName(d).StartsWith("soak.", StringComparison.Ordinal));
    }

    private static (int Fds, long RssKiB) Resources(int pid)
    {
        var fds = Directory.GetFiles($"/proc/{pid}/fd").Length;
        var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (fds, long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
    }
}
