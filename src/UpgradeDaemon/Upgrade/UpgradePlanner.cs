using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// A batch upgrade: local migrations onto each domain's configured (freshly installed) binary, at most
/// <c>parallel</c> at once. One failure never stops the others: a domain that cannot even start its job gets a
/// job that failed at once, with the reason, so the summary names every domain asked for.
/// </summary>
public sealed class UpgradePlanner(DomainRegistry registry, MigrationService migrations, StaleDetector stale,
    InstanceLauncher launcher, DaemonOptions options)
{
    public IReadOnlyList<MigrationJob> Start(IReadOnlyList<string> names, bool staleOnly, MigrationOptions migrationOptions, int? parallel = null)
    {
        // A name given twice is one domain: a second job would only be refused as busy and report the batch failed.
        var domains = names.Count > 0
            ? names.Distinct(StringComparer.Ordinal).Select(registry.Get).ToList()
            : registry.List().Where(d => d.Active is not null).ToList();
        if (staleOnly)
            domains = domains.Where(d => stale.Check(d).IsStale).ToList();
        var throttle = new SemaphoreSlim(Math.Clamp(parallel ?? options.MaxParallelMigrations, 1, 64));
        var jobs = new List<MigrationJob>();
        foreach (var domain in domains)
        {
            var target = migrationOptions.TargetBinary ?? launcher.BinaryOf(domain.Definition);
            var jobOptions = migrationOptions with { TargetBinary = target };
            try
            {
                jobs.Add(migrations.Start(domain.Name, MigrationKind.Upgrade, jobOptions, throttle));
            }
            catch (Exception e) when (e is MigrationBusyException or DomainNotFoundException)
            {
                jobs.Add(migrations.Refused(domain, MigrationKind.Upgrade, jobOptions, e.Message));
            }
        }
        return jobs;
    }
}
