using System.Diagnostics;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Evacuation;

/// <summary>
/// Measurement (trait Category=Bench, prints, asserts no timing): the wall time of evacuating a host of eight small guests
/// to two peers, beside one migration of one of them alone over the same links. Asserts only that everything moved.
/// </summary>
/// <remarks>
/// Measured 2026-12-03 on the shared 2-core machine (load ~7, TCG, ssh with a PSK stream): one migration alone 15.9-25.2 s
/// wall (jobs 11.3-20.4 s); evacuating 8 x 128 MiB to B and C with --parallel 4 45.6 s wall, 4 per peer, jobs 15.9-38.0 s,
/// downtimes 16-346 ms: about two "one migration" times for eight guests. Merged with main d9d6418 (load ~7 falling): alone
/// 9.9-13.6 s wall (jobs 7.1-11.5 s); evacuation 33.3 s wall, jobs 11.1-28.4 s, downtimes 121-537 ms.
/// </remarks>
[Collection(RealQemuCollection.Name)]
public sealed class EvacuationTimingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Guests = 8;
    private const int GuestMiB = 128;

    private TestHosts _hosts = null!;

    public async Task InitializeAsync() => _hosts = await TestHosts.StartAsync(output, 3);

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    [Fact]
    [Trait("Category", "Bench")]
    public async Task Evacuate_EightGuestsToTwoPeers_WallTimePrintedBesideOneMigrationAlone()
    {
        var (a, b, c) = (_hosts.A, _hosts.B, _hosts.C);
        var names = Enumerable.Range(1, Guests).Select(i => $"bench{i}").ToList();
        foreach (var name in names)
            await a.Daemon.BootGuestAsync(name, GuestMiB, "private", patternMiB: 16);

        // One migration alone, there and back: the same guest, the same kind of link, nothing else moving.
        var alone = new List<(long Wall, long Total, long Downtime)>();
        foreach (var (from, to) in new[] { (a, b), (b, a), (a, c), (c, a) })
        {
            var clock = Stopwatch.StartNew();
            var job = (await from.Daemon.CliAsync("migrate", names[0], "--to", to.SshUri, "--json")).Json();
            alone.Add((clock.ElapsedMilliseconds, job.GetProperty("totalMs").GetInt64(), job.GetProperty("downtimeMs").GetInt64()));
        }

        const string parallel = "4";
        {
            var evacuation = Stopwatch.StartNew();
            var result = await a.Daemon.CliAsync("evacuate", "--to", $"{b.SshUri},{c.SshUri}", "--parallel", parallel, "--json");
            var wall = evacuation.ElapsedMilliseconds;
            output.WriteLine(result.Stdout);
            var summary = result.Json();
            Assert.Equal(Guests, summary.GetProperty("evacuated").GetInt32());
            await Poll.UntilAsync(() => a.Daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(30), "no QEMU left on A");
            var jobs = summary.GetProperty("jobs").EnumerateArray().ToList();
            var totals = jobs.Select(j => j.GetProperty("totalMs").GetInt64()).Order().ToList();
            var downtimes = jobs.Select(j => j.GetProperty("downtimeMs").GetInt64()).Order().ToList();
            output.WriteLine($"one migration alone ({GuestMiB} MiB, ssh, A<->B, A<->C): wall {string.Join("/", alone.Select(x => x.Wall))} ms, " +
                             $"job total {string.Join("/", alone.Select(x => x.Total))} ms, downtime {string.Join("/", alone.Select(x => x.Downtime))} ms");
            output.WriteLine($"evacuate {Guests} x {GuestMiB} MiB to B and C, --parallel {parallel}: wall {wall} ms (CLI, plan and all); " +
                             $"job totals {string.Join(", ", totals)} ms; downtimes {string.Join(", ", downtimes)} ms; " +
                             $"{jobs.Count(j => j.GetProperty("destination").GetString() == b.SshUri)} to B, " +
                             $"{jobs.Count(j => j.GetProperty("destination").GetString() == c.SshUri)} to C");
        }
    }
}
