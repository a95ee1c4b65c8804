using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LocalMigrate.UpgradeDaemon.Tests.Support;

namespace LocalMigrate.UpgradeDaemon.Tests.Network;

/// <summary>
/// <c>ping -i 0.01</c> (an echo request every 10 ms) from inside a network namespace, for the span of one migration: on
/// <see cref="StopAsync"/> (SIGINT, after which ping prints its summary) the requests sent and the replies received.
/// </summary>
internal sealed partial class PingRun
{
    private readonly Process _process;
    private readonly Task<string> _stdout;

    private PingRun(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
    }

    public sealed record Summary(int Transmitted, int Received)
    {
        public int Lost => Transmitted - Received;
    }

    public static PingRun Start(string namespaceName, string address)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", namespaceName, "ping", "-n", "-q", "-i", "0.01", "-W", "2", address })
            start.ArgumentList.Add(a);
        return new PingRun(Process.Start(start)!);
    }

    /// <summary>Waits a moment for replies in flight, then stops ping and reads its summary.</summary>
    public async Task<Summary> StopAsync()
    {
        // ip netns exec execs ping: the pid is ping's.
        await Task.Delay(200);
        await ProcessRunner.RunAsync("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var output = await _stdout;
        var match = SummaryPattern().Match(output);
        Assert.True(match.Success, $"no ping summary in: {output}");
        return new Summary(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial Regex SummaryPattern();
}
