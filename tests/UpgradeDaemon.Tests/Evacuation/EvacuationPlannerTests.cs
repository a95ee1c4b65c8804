using LocalMigrate.UpgradeDaemon.Evacuation;

namespace LocalMigrate.UpgradeDaemon.Tests.Evacuation;

/// <summary>The placement function: free RAM, sizes, refusals in, plan out. Pure; the pre-flight is a table.</summary>
public sealed class EvacuationPlannerTests
{
    private const long MiB = 1L << 20;

    private static Task<IReadOnlyList<EvacuationPlacement>> Plan(IReadOnlyList<EvacuationHost> hosts, IReadOnlyList<EvacuationGuest> guests,
        params (string Guest, string Host, string Reason)[] refusals) =>
        EvacuationPlanner.PlanAsync(hosts, guests, (g, h, _) =>
            Task.FromResult<string?>(refusals.FirstOrDefault(r => r.Guest == g.Name && r.Host == h.Destination).Reason));

    private static string? Where(IReadOnlyList<EvacuationPlacement> plan, string guest) => plan.Single(p => p.Guest == guest).Destination;

    [Fact]
    public async Task PlanAsync_EqualGuests_AlternateToTheHostWithMostRoomLeft()
    {
        var plan = await Plan([new("ssh://b", 1000 * MiB), new("ssh://c", 800 * MiB)],
            [new("g1", 200 * MiB), new("g2", 200 * MiB), new("g3", 200 * MiB), new("g4", 200 * MiB)]);

        // b 1000 -> g1 (800 left) ; b 800 = c 800: b listed first -> g2 (600) ; c 800 -> g3 (600) ; b 600 = c 600 -> b.
        Assert.Equal(["ssh://b", "ssh://b", "ssh://c", "ssh://b"], plan.Select(p => p.Destination));
        Assert.Equal(["g1", "g2", "g3", "g4"], plan.Select(p => p.Guest));
        Assert.All(plan, p => Assert.Empty(p.Refusals));
    }

    [Fact]
    public async Task PlanAsync_MixedSizes_BiggestPlacedFirstOnTheFreestHost()
    {
        var plan = await Plan([new("ssh://b", 1000 * MiB), new("ssh://c", 900 * MiB)],
            [new("small", 100 * MiB), new("big", 700 * MiB), new("medium", 300 * MiB)]);

        Assert.Equal(["big", "medium", "small"], plan.Select(p => p.Guest));
        Assert.Equal("ssh://b", Where(plan, "big"));      // b 1000 -> 300 left
        Assert.Equal("ssh://c", Where(plan, "medium"));   // c 900 -> 600 left
        Assert.Equal("ssh://c", Where(plan, "small"));    // c 600 > b 300
    }

    [Fact]
    public async Task PlanAsync_BestHostRefuses_NextHostTakesItAndTheRefusalIsKept()
    {
        var plan = await Plan([new("ssh://b", 2000 * MiB), new("ssh://c", 1000 * MiB)],
            [new("web", 200 * MiB), new("db", 200 * MiB)],
            ("web", "ssh://b", "host b: another domain named web (uuid 1) is defined here"));

        Assert.Equal("ssh://c", Where(plan, "web"));
        Assert.Equal(["ssh://b: host b: another domain named web (uuid 1) is defined here"], plan.Single(p => p.Guest == "web").Refusals);
        Assert.Equal("ssh://b", Where(plan, "db"));
    }

    [Fact]
    public async Task PlanAsync_EveryHostRefuses_GuestUnplacedWithEveryReasonAndOthersStillPlaced()
    {
        var plan = await Plan([new("ssh://b", 2000 * MiB), new("ssh://c", 1000 * MiB)],
            [new("stuck", 200 * MiB), new("free", 200 * MiB)],
            ("stuck", "ssh://b", "name taken on b"), ("stuck", "ssh://c", "name taken on c"));

        var stuck = plan.Single(p => p.Guest == "stuck");
        Assert.False(stuck.IsPlaced);
        Assert.Equal(["ssh://b: name taken on b", "ssh://c: name taken on c"], stuck.Refusals);
        Assert.Equal("ssh://b", Where(plan, "free"));
    }

    [Fact]
    public async Task PlanAsync_RamRunsOut_CountsWhatThisEvacuationAlreadySentAndLeavesTheRestUnplaced()
    {
        var plan = await Plan([new("ssh://b", 500 * MiB), new("ssh://c", 300 * MiB)],
            [new("g1", 250 * MiB), new("g2", 250 * MiB), new("g3", 250 * MiB), new("g4", 250 * MiB)]);

        Assert.Equal(["ssh://b", "ssh://c", "ssh://b", null], plan.Select(p => p.Destination));
        var last = plan.Single(p => p.Guest == "g4");
        Assert.Equal(2, last.Refusals.Count);
        Assert.Contains("ssh://c: needs 250 MiB, 50 MiB free", last.Refusals[0]);
        Assert.Contains("ssh://b: needs 250 MiB, 0 MiB free", last.Refusals[1]);
    }

    [Fact]
    public async Task PlanAsync_UnavailableHost_NeverCheckedAndNamedInEveryRefusal()
    {
        var checkedHosts = new List<string>();
        var plan = await EvacuationPlanner.PlanAsync(
            [new("ssh://b", 5000 * MiB, "host b is in maintenance"), new("ssh://c", 1000 * MiB)],
            [new("g1", 100 * MiB)],
            (_, h, _) =>
            {
                checkedHosts.Add(h.Destination);
                return Task.FromResult<string?>(null);
            });

        Assert.Equal("ssh://c", Where(plan, "g1"));
        Assert.Equal(["ssh://c"], checkedHosts);
        Assert.Equal(["ssh://b: host b is in maintenance"], plan.Single().Refusals);
    }

    [Fact]
    public async Task PlanAsync_NoDestination_EveryGuestUnplacedSayingSo()
    {
        var plan = await Plan([], [new("g1", 100 * MiB)]);

        Assert.Equal(["no destination given"], plan.Single().Refusals);
        Assert.Null(plan.Single().Destination);
    }

    [Fact]
    public async Task PlanAsync_RefusalOfOneGuest_DoesNotConsumeRoom()
    {
        // b refuses the big one: its 1000 MiB stay free for the next guest, which then goes to b, not c.
        var plan = await Plan([new("ssh://b", 1000 * MiB), new("ssh://c", 700 * MiB)],
            [new("big", 600 * MiB), new("next", 500 * MiB)],
            ("big", "ssh://b", "refused"));

        Assert.Equal("ssh://c", Where(plan, "big"));
        Assert.Equal("ssh://b", Where(plan, "next"));
    }

    [Fact]
    public async Task Alternatives_ChosenHostFails_OthersThatDidNotRefuseInOrderOfRoomLeftAfterThePlan()
    {
        EvacuationHost[] hosts = [new("ssh://b", 1000 * MiB), new("ssh://c", 900 * MiB), new("ssh://d", 950 * MiB), new("ssh://e", 5000 * MiB, "unreachable"),
            new("ssh://f", 1200 * MiB)];
        var plan = await Plan(hosts, [new("g1", 400 * MiB), new("g2", 300 * MiB), new("g3", 300 * MiB)], ("g1", "ssh://f", "another domain named g1"));
        var g1 = plan.Single(p => p.Guest == "g1");
        // g1: e unavailable, f refused, b taken (600 left); g2 -> f (900 left); g3 -> d (950 -> 650 left).
        Assert.Equal("ssh://b", g1.Destination);
        Assert.Equal("ssh://f", Where(plan, "g2"));
        Assert.Equal("ssh://d", Where(plan, "g3"));

        var next = EvacuationService.Alternatives(g1, plan, hosts).ToList();

        // c 900 free beats d's 650 left; e is unavailable, f refused g1 in the plan (its refusal stands), b is the one that failed.
        Assert.Equal(["ssh://c", "ssh://d"], next);
    }
}
