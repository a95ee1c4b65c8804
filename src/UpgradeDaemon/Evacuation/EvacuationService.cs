using System.Security.Cryptography;
using System.Text;
using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Remote;
using Microsoft.Extensions.Logging;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>
/// Empties this host: maintenance on first (nothing new starts or arrives here meanwhile), then every running domain
/// moves live to one of the given destinations, placed by <see cref="EvacuationPlanner"/> on each destination's free RAM
/// and its own pre-flight (Peer.Prepare with <c>checkOnly</c>: the very checks a migration meets, nothing started). Each
/// move is an ordinary remote migration job, at most <c>parallel</c> at once; a guest no destination takes gets a job
/// that failed at once naming every destination's reason, and keeps running here. A move that fails before the switch
/// (the guest is still here) is retried on the next destination (<see cref="Alternatives"/>) as a new job, which the failed
/// one names (<see cref="MigrationJob.RetriedBy"/>).
/// </summary>
public sealed partial class EvacuationService(DomainRegistry registry, MigrationService migrations, PeerSessionFactory sessions,
    HostMaintenance maintenance, DaemonOptions options, ILogger<EvacuationService> logger)
{
    /// <exception cref="ArgumentException">Names the bad destination or option.</exception>
    public async Task<EvacuationResult> StartAsync(IReadOnlyList<string> destinations, MigrationOptions migrationOptions, int? parallel, bool dryRun,
        CancellationToken cancellationToken)
    {
        if (destinations.Count == 0)
            throw new ArgumentException("destinations: give at least one host to evacuate to");
        var uris = destinations.Select((d, i) => Parse(d, i)).DistinctBy(u => u.Text, StringComparer.Ordinal).ToList();
        if (migrationOptions.IsOffline)
            throw new ArgumentException("option offline: evacuate moves running guests live");
        if (!dryRun)
            maintenance.Set(true, "evacuate");
        var guests = registry.List().Where(d => d.Active is not null)
            .Select(d => new EvacuationGuest(d.Name, ((long)d.Definition.MemoryMiB << 20) + RemoteMigrationDst.OverheadBytes)).ToList();
        var peers = await Task.WhenAll(uris.Select(u => HelloAsync(u, migrationOptions, cancellationToken))).ConfigureAwait(false);
        IReadOnlyList<EvacuationPlacement> plan;
        try
        {
            var byDestination = peers.ToDictionary(p => p.Host.Destination, StringComparer.Ordinal);
            plan = await EvacuationPlanner.PlanAsync(peers.Select(p => p.Host).ToList(), guests,
                (guest, host, token) => CheckAsync(byDestination[host.Destination], guest, token), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var peer in peers)
            {
                if (peer.Remote is not null)
                    await peer.Remote.DisposeAsync().ConfigureAwait(false);
            }
        }
        foreach (var placement in plan)
            LogPlaced(placement.Guest, placement.Bytes >> 20, placement.Destination ?? "nowhere", string.Join("; ", placement.Refusals), dryRun);
        if (dryRun)
            return new EvacuationResult(plan, []);
        var throttle = new SemaphoreSlim(Math.Clamp(parallel ?? options.MaxParallelMigrations, 1, 64));
        var jobs = new List<MigrationJob>();
        foreach (var placement in plan)
        {
            var domain = registry.Find(placement.Guest);
            if (domain is null)
                continue;
            if (placement.Destination is not { } destination)
            {
                jobs.Add(migrations.Refused(domain, MigrationKind.Remote, migrationOptions,
                    $"no destination took {placement.Guest}; it keeps running here: {string.Join("; ", placement.Refusals)}"));
                continue;
            }
            try
            {
                var next = new Queue<string>(Alternatives(placement, plan, peers.Select(p => p.Host).ToList()));
                jobs.Add(migrations.Start(domain.Name, MigrationKind.Remote, migrationOptions, throttle, PeerUri.Parse(destination),
                    failed => NextDestination(failed, next)));
            }
            catch (Exception e) when (e is MigrationBusyException or DomainNotFoundException)
            {
                jobs.Add(migrations.Refused(domain, MigrationKind.Remote, migrationOptions, e.Message));
            }
        }
        return new EvacuationResult(plan, jobs);
    }

    /// <summary>
    /// Where a guest goes when the migration to its chosen destination fails before the switch (the destination refused
    /// it in the real Prepare, its QEMU died, the stream broke): the other destinations that did not refuse it in the
    /// plan, the one with the most room left after the plan first. Each is tried once; its own Prepare is the check.
    /// </summary>
    internal static IEnumerable<string> Alternatives(EvacuationPlacement placement, IReadOnlyList<EvacuationPlacement> plan, IReadOnlyList<EvacuationHost> hosts) =>
        hosts.Select((h, i) => (Host: h, Index: i))
            .Where(x => x.Host.Unavailable is null && x.Host.Destination != placement.Destination
                        && !placement.Refusals.Any(r => r.StartsWith(x.Host.Destination + ": ", StringComparison.Ordinal)))
            .OrderByDescending(x => x.Host.FreeBytes - plan.Where(p => p.Destination == x.Host.Destination).Sum(p => p.Bytes))
            .ThenBy(x => x.Index)
            .Select(x => x.Host.Destination);

    private PeerUri? NextDestination(MigrationJob failed, Queue<string> next)
    {
        // Only while the guest still runs here: the failed job rolled back to it.
        if (registry.Find(failed.DomainName)?.Active is null || !next.TryDequeue(out var destination))
            return null;
        LogRetry(failed.DomainName, failed.Destination?.Text ?? "", failed.Id, destination);
        return PeerUri.Parse(destination);
    }

    private static PeerUri Parse(string destination, int index)
    {
        try
        {
            return PeerUri.Parse(destination);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"destinations[{index}]: {e.Message}");
        }
    }

    /// <summary>A session and Hello: the destination's free RAM and whether it is in maintenance. Never throws: an unreachable peer is unavailable.</summary>
    private async Task<ProbedDestination> HelloAsync(PeerUri uri, MigrationOptions migrationOptions, CancellationToken cancellationToken)
    {
        RemoteDestination? remote = null;
        try
        {
            var session = await sessions.OpenAsync(uri, cancellationToken).ConfigureAwait(false);
            remote = new RemoteDestination(session, sessions, migrationOptions, resume: true, sessions.PkiDirectory);
            var facts = await remote.HelloAsync().ConfigureAwait(false);
            var name = facts.TryGetValue(PeerContract.HostKeys.HostName, out var n) && n.Type == VariantValueType.String ? n.GetString() : uri.Host;
            if (facts.TryGetValue(PeerContract.HostKeys.Maintenance, out var m) && m.Type == VariantValueType.Bool && m.GetBool())
                return new ProbedDestination(new EvacuationHost(uri.Text, 0, $"host {name} is in maintenance"), remote, session, migrationOptions);
            var free = facts.TryGetValue(PeerContract.HostKeys.MemAvailableBytes, out var f) && f.Type == VariantValueType.UInt64 ? (long)f.GetUInt64() : 0;
            return new ProbedDestination(new EvacuationHost(uri.Text, free), remote, session, migrationOptions);
        }
        catch (Exception e) when (e is PeerUnreachableException or MigrationException or DBusErrorReplyException or DBusConnectionException or IOException)
        {
            LogUnavailable(uri.Text, e.Message);
            return new ProbedDestination(new EvacuationHost(uri.Text, 0, e.Message), remote, null, migrationOptions);
        }
    }

    /// <summary>The destination's pre-flight for this guest, as a migration would meet it, without starting anything there.</summary>
    private async Task<string?> CheckAsync(ProbedDestination peer, EvacuationGuest guest, CancellationToken cancellationToken)
    {
        if (peer.Session is null || registry.Find(guest.Name) is not { } domain)
            return "not reachable";
        var definition = domain.Active?.Definition ?? domain.Definition;
        var check = new Dictionary<string, VariantValue>
        {
            [PeerContract.PrepareKeys.CheckOnly] = VariantValue.Bool(true),
            [PeerContract.PrepareKeys.ListenHost] = VariantValue.String(peer.Session.Uri.Host),
            [PeerContract.PrepareKeys.Persistent] = VariantValue.Bool(peer.Options.DefinesOnDestination),
            [PeerContract.PrepareKeys.StreamTls] = VariantValue.String(peer.Remote!.Security.ToString().ToLowerInvariant()),
        };
        if (peer.Remote.Security == StreamSecurity.Psk)
        {
            // The destination validates the options as it would a migration's; this key protects nothing and is thrown away.
            check[PeerContract.PrepareKeys.PskIdentity] = VariantValue.String(Remote.Transport.MigrationPsk.Username);
            check[PeerContract.PrepareKeys.PskKey] = VariantValue.String(Convert.ToHexString(Remote.Transport.MigrationPsk.CreateKey()));
        }
        try
        {
            var job = Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
            await peer.Session.Peer.PrepareAsync(job, Encoding.UTF8.GetString(DefinitionWriter.ToUtf8Json(definition)), check)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (DBusErrorReplyException e)
        {
            return e.Message;
        }
        catch (Exception e) when (e is DBusConnectionException or IOException or TimeoutException or ObjectDisposedException)
        {
            return $"the control channel broke: {e.Message}";
        }
    }

    /// <summary>A destination as Hello found it, with the session its pre-flight checks go over.</summary>
    private sealed record ProbedDestination(EvacuationHost Host, RemoteDestination? Remote, PeerSession? Session, MigrationOptions Options);

    [LoggerMessage(Level = LogLevel.Information, Message = "Evacuation: {DomainName} ({MiB} MiB) -> {Destination} (dry run: {DryRun}); refused by: {Refusals}")]
    private partial void LogPlaced(string domainName, long miB, string destination, string refusals, bool dryRun);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Evacuation: {DomainName} did not move to {Failed} (job {JobId}); trying {Next}")]
    private partial void LogRetry(string domainName, string failed, string jobId, string next);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Evacuation: destination {Destination} unavailable: {Reason}")]
    private partial void LogUnavailable(string destination, string reason);
}
