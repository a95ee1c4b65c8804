using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Upgrade;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary><c>org.localmigrate1.Domain</c> for one domain, at <see cref="BusContract.DomainPath"/>.</summary>
internal static class DomainObject
{
    public static readonly string[] ChangingProperties = ["State", "Pid", "QemuBinary", "QemuVersion", "InstanceId", "RuntimeDirectory", "Job", "LastJob", "Stale", "StaleReasons"];

    public static BusInterface Build(Domain domain, DomainService domains, MigrationService migrations, StaleDetector stale,
        InstanceLauncher launcher, CallerPolicy policy, JobObjects jobs)
    {
        var name = domain.Name;
        return new BusInterfaceBuilder(BusContract.DomainInterface)
            .Property("Name", "s", () => name, BusPropertyFlags.Const)
            .Property("Uuid", "s", () => domain.Definition.Uuid.ToString("D"), BusPropertyFlags.Const)
            .Property("State", "s", () => domain.State.ToString().ToLowerInvariant(), BusPropertyFlags.EmitsChange)
            .Property("Pid", "u", () => (uint)(domain.Active?.Pid ?? 0), BusPropertyFlags.EmitsChange)
            .Property("QemuBinary", "s", () => domain.Active?.Binary ?? "", BusPropertyFlags.EmitsChange)
            .Property("QemuVersion", "s", () => domain.Active?.QemuPackageVersion ?? "", BusPropertyFlags.EmitsChange)
            .Property("InstanceId", "s", () => domain.Active?.InstanceId ?? "", BusPropertyFlags.EmitsChange)
            .Property("RuntimeDirectory", "s", () => domain.Active?.Paths.Directory ?? "", BusPropertyFlags.EmitsChange)
            .Property("Stale", "b", () => stale.Check(domain).IsStale, BusPropertyFlags.EmitsInvalidation)
            .Property("StaleReasons", "as", () => stale.Check(domain).Reasons.ToArray(), BusPropertyFlags.EmitsInvalidation)
            .Property("ConsoleLog", "s", () => launcher.ConsoleLogOf(name), BusPropertyFlags.Const)
            .Property("Machine", "s", () => domain.Definition.Machine, BusPropertyFlags.Const)
            .Property("MemoryMiB", "u", () => (uint)domain.Definition.MemoryMiB, BusPropertyFlags.Const)
            .Property("MemoryBacking", "s", () => domain.Definition.MemoryBacking.ToString().ToLowerInvariant(), BusPropertyFlags.Const)
            .Property("Job", "o", () => new BusObjectPath(domain.Job is { } j ? BusContract.JobPath(j.Id) : "/"), BusPropertyFlags.EmitsChange)
            .Property("LastJob", "o", () => new BusObjectPath(domain.LastJob is { } j ? BusContract.JobPath(j.Id) : "/"), BusPropertyFlags.EmitsChange)
            .Method("Start", "", "", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                await domains.StartAsync(name, CancellationToken.None).ConfigureAwait(false);
                return [];
            }))
            .Method("Stop", "b", "", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                await domains.StopAsync(name, (bool)call.Args[0], CancellationToken.None).ConfigureAwait(false);
                return [];
            }), ["force"])
            .Method("Migrate", "sa{sv}", "o", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                var uri = (string)call.Args[0];
                if (uri.Length > 0)
                    throw new ArgumentException($"uri: '{uri}': remote migration is not available yet; pass \"\" for a local migration");
                var options = MigrationOptionsReader.Read((IReadOnlyDictionary<string, object>)call.Args[1]);
                var job = migrations.Start(name, options.TargetBinary is null ? MigrationKind.Local : MigrationKind.Upgrade, options);
                var path = await jobs.ExportAsync(job).ConfigureAwait(false);
                return [new BusObjectPath(path)];
            }), ["uri", "options"], ["job"])
            .Method("Cancel", "", "o", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                var job = migrations.Cancel(name);
                return await Task.FromResult<object?[]>([new BusObjectPath(BusContract.JobPath(job.Id))]).ConfigureAwait(false);
            }), [], ["job"])
            .Method("Undefine", "", "", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                await domains.UndefineAsync(name).ConfigureAwait(false);
                return [];
            }))
            .Build();
    }
}
