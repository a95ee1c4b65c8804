namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>
/// Places the guests of a host being emptied: each on the destination with the most free RAM left (its MemAvailable
/// minus what this evacuation already placed there) that passes pre-flight; when the best one refuses, the next.
/// Biggest guests first: they are the hardest to fit, and small ones fill the gaps. No I/O of its own: the pre-flight
/// is the caller's <c>check</c> (a Prepare that only checks, on the real path; a table in tests).
/// </summary>
public static class EvacuationPlanner
{
    /// <param name="check">null when the destination would take the guest; otherwise its reason.</param>
    public static async Task<IReadOnlyList<EvacuationPlacement>> PlanAsync(IReadOnlyList<EvacuationHost> hosts, IReadOnlyList<EvacuationGuest> guests,
        Func<EvacuationGuest, EvacuationHost, CancellationToken, Task<string?>> check, CancellationToken cancellationToken = default)
    {
        var placed = hosts.ToDictionary(h => h.Destination, _ => 0L, StringComparer.Ordinal);
        var plan = new List<EvacuationPlacement>(guests.Count);
        foreach (var guest in guests.OrderByDescending(g => g.Bytes).ThenBy(g => g.Name, StringComparer.Ordinal))
        {
            var refusals = new List<string>();
            string? chosen = null;
            // Stable for equal room: the order the operator listed the destinations in.
            foreach (var host in hosts.Select((h, i) => (Host: h, Index: i))
                         .OrderByDescending(x => x.Host.FreeBytes - placed[x.Host.Destination]).ThenBy(x => x.Index).Select(x => x.Host))
            {
                if (host.Unavailable is { } why)
                {
                    refusals.Add($"{host.Destination}: {why}");
                    continue;
                }
                var left = host.FreeBytes - placed[host.Destination];
                if (left < guest.Bytes)
                {
                    refusals.Add($"{host.Destination}: needs {MiB(guest.Bytes)} MiB, {MiB(Math.Max(left, 0))} MiB free after this evacuation's other guests");
                    continue;
                }
                if (await check(guest, host, cancellationToken).ConfigureAwait(false) is { } problem)
                {
                    refusals.Add($"{host.Destination}: {problem}");
                    continue;
                }
                chosen = host.Destination;
                placed[host.Destination] += guest.Bytes;
                break;
            }
            if (hosts.Count == 0)
                refusals.Add("no destination given");
            plan.Add(new EvacuationPlacement(guest.Name, guest.Bytes, chosen, refusals));
        }
        return plan;
    }

    private static long MiB(long bytes) => bytes >> 20;
}
