using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Upgrade;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary><c>org.localmigrate1.Manager</c> at <see cref="BusContract.ManagerPath"/>.</summary>
internal static class ManagerObject
{
    public static BusInterface Build(DaemonOptions options, DomainService domains, MigrationService migrations, UpgradePlanner upgrades,
        CallerPolicy policy, JobObjects jobs) =>
        new BusInterfaceBuilder(BusContract.ManagerInterface)
            .Property("Version", "s", () => typeof(ManagerObject).Assembly.GetName().Version?.ToString() ?? "0", BusPropertyFlags.Const)
            .Property("QemuBinary", "s", () => options.QemuBinary, BusPropertyFlags.Const)
            .Property("MaxParallelMigrations", "u", () => (uint)options.MaxParallelMigrations, BusPropertyFlags.Const)
            .Method("Define", "s", "o", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                var domain = await domains.DefineAsync((string)call.Args[0], CancellationToken.None).ConfigureAwait(false);
                return [new BusObjectPath(BusContract.DomainPath(domain.Name))];
            }), ["definition"], ["domain"])
            .Method("GetDomain", "s", "o", call => ApiErrors.Guard(() =>
            {
                var domain = domains.Registry.Get((string)call.Args[0]);
                return Task.FromResult<object?[]>([new BusObjectPath(BusContract.DomainPath(domain.Name))]);
            }), ["name"], ["domain"])
            .Method("ListDomains", "", "ao", _ => ApiErrors.Guard(() =>
                Task.FromResult<object?[]>([domains.Registry.List().Select(d => new BusObjectPath(BusContract.DomainPath(d.Name))).ToArray()])),
                [], ["domains"])
            .Method("ListJobs", "", "ao", _ => ApiErrors.Guard(async () =>
            {
                var paths = new List<BusObjectPath>();
                foreach (var job in migrations.Jobs())
                    paths.Add(new BusObjectPath(await jobs.ExportAsync(job).ConfigureAwait(false)));
                return [paths.ToArray()];
            }), [], ["jobs"])
            .Method("Upgrade", "asba{sv}", "ao", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                var names = (string[])call.Args[0];
                var staleOnly = (bool)call.Args[1];
                var raw = (IReadOnlyDictionary<string, object>)call.Args[2];
                int? parallel = raw.TryGetValue("parallel", out var p)
                    ? p is uint n and >= 1 and <= 64 ? (int)n : throw new ArgumentException($"option parallel: bad value '{p}' (1 to 64, type u)")
                    : null;
                var migrationOptions = MigrationOptionsReader.Read(raw.Where(kv => kv.Key != "parallel").ToDictionary(kv => kv.Key, kv => kv.Value));
                var started = upgrades.Start(names, staleOnly, migrationOptions, parallel);
                var paths = new List<BusObjectPath>();
                foreach (var job in started)
                    paths.Add(new BusObjectPath(await jobs.ExportAsync(job).ConfigureAwait(false)));
                return [paths.ToArray()];
            }), ["names", "staleOnly", "options"], ["jobs"])
            .Build();
}
