using System.Diagnostics;
using System.Globalization;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>
/// Raw TCP throughput between two test hosts, the baseline a migration's throughput is compared with: socat sends
/// zeros with 1 MiB buffers; on the receiver, dd reads the accepted socket itself (socat's <c>nofork</c>: no pipe in
/// between, which would halve the figure) and reports how many bytes arrived, so a short transfer is caught.
/// </summary>
internal sealed record TcpThroughput(long BytesSent, long BytesReceived, TimeSpan Elapsed)
{
    public double MiBPerSecond => BytesReceived / 1048576.0 / Elapsed.TotalSeconds;

    public static async Task<TcpThroughput> MeasureAsync(NetworkHost from, NetworkHost to, long bytes, int port = 5001)
    {
        var receiver = to.RunAsync("socat", "-u", $"TCP-LISTEN:{port},bind={to.Address},reuseaddr", "EXEC:dd of=/dev/null bs=1M,nofork");
        // Timed from a listening receiver: the figure is the link's, not process start-up's.
        await Poll.UntilAsync(async () => (await to.RunAsync("ss", "-Hltn", $"sport = :{port}")).Stdout.Contains($"{to.Address}:{port}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), $"socat listening on {to.Address}:{port}");
        var clock = Stopwatch.StartNew();
        var send = await from.RunAsync("socat", "-u", "-b", "1048576", $"OPEN:/dev/zero,readbytes={bytes}", $"TCP:{to.Address}:{port}");
        var received = await receiver;
        clock.Stop();
        Assert.True(send.ExitCode == 0, $"socat sender: {send}");
        Assert.True(received.ExitCode == 0, $"socat receiver: {received}");
        // dd's last line: "N bytes (...) copied, ...".
        var summary = received.Stderr.Trim().Split('\n')[^1];
        return new TcpThroughput(bytes, long.Parse(summary.Split(' ')[0], CultureInfo.InvariantCulture), clock.Elapsed);
    }
}
