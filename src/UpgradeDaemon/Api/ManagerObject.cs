using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Upgrade;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary><see cref="ManagerContract"/> at <see cref="BusContract.ManagerPath"/>.</summary>
internal static class ManagerObject
{
    public static ExportedInterface Build(DaemonOptions options, DomainService domains, MigrationService migrations, UpgradePlanner upgrades,
        StandbyTargets standbys,
        Evacuation.HostMaintenance maintenance, Evacuation.EvacuationService evacuations, CallerPolicy policy)
    {
        var version = typeof(ManagerObject).Assembly.GetName().Version?.ToString() ?? "0";
        return new ExportedInterface(ManagerContract.Interface)
            .Get(ManagerContract.Version, () => VariantValue.String(version))
            .Get(ManagerContract.QemuBinary, () => VariantValue.String(options.QemuBinary))
            .Get(ManagerContract.MaxParallelMigrations, () => VariantValue.UInt32((uint)options.MaxParallelMigrations))
            .Get(ManagerContract.Maintenance, () => VariantValue.Bool(maintenance.IsOn))
            .On(ManagerContract.Define, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var domain = await domains.DefineAsync((string)call.Args[0]!, CancellationToken.None).ConfigureAwait(false);
                return [BusContract.DomainPath(domain.Name)];
            })
            .On(ManagerContract.GetDomain, call =>
                Task.FromResult<object?[]>([BusContract.DomainPath(domains.Registry.Get((string)call.Args[0]!).Name)]))
            .On(ManagerContract.ListDomains, _ =>
                Task.FromResult<object?[]>([domains.Registry.List().Select(d => BusContract.DomainPath(d.Name)).ToArray()]))
            .On(ManagerContract.ListJobs, _ =>
                Task.FromResult<object?[]>([migrations.Jobs().Select(j => BusContract.JobPath(j.Id)).ToArray()]))
            .On(ManagerContract.Upgrade, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var names = (string[])call.Args[0]!;
                var staleOnly = (bool)call.Args[1]!;
                var raw = (IReadOnlyDictionary<string, object>)call.Args[2]!;
                var parallel = ReadParallel(raw);
                var migrationOptions = MigrationOptionsReader.Read(raw.Where(kv => kv.Key != BusContract.MigrateOptions.Parallel)
                    .ToDictionary(kv => kv.Key, kv => kv.Value));
                var started = upgrades.Start(names, staleOnly, migrationOptions, parallel);
                return [started.Select(j => BusContract.JobPath(j.Id)).ToArray()];
            })
            .On(ManagerContract.PrepareTargets, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var report = await standbys.PrepareAsync((string[])call.Args[0]!, (bool)call.Args[1]!,
                    MigrationOptionsReader.Read((IReadOnlyDictionary<string, object>)call.Args[2]!), CancellationToken.None).ConfigureAwait(false);
                return [report.Ready.ToArray(), report.Problems.ToArray()];
            })
            .On(ManagerContract.SetMaintenance, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                maintenance.Set((bool)call.Args[0]!, "maintenance " + ((bool)call.Args[0]! ? "on" : "off"));
                return [];
            })
            .On(ManagerContract.Evacuate, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var destinations = (string[])call.Args[0]!;
                var raw = (IReadOnlyDictionary<string, object>)call.Args[1]!;
                var parallel = ReadParallel(raw);
                var dryRun = raw.TryGetValue(ManagerContract.EvacuateOptions.DryRun, out var d)
                    ? d as bool? ?? throw new ArgumentException($"option {ManagerContract.EvacuateOptions.DryRun}: bad value {BusValues.Describe(d)}, expected type b")
                    : false;
                var migrationOptions = MigrationOptionsReader.Read(raw
                    .Where(kv => kv.Key is not BusContract.MigrateOptions.Parallel and not ManagerContract.EvacuateOptions.DryRun)
                    .ToDictionary(kv => kv.Key, kv => kv.Value));
                var result = await evacuations.StartAsync(destinations, migrationOptions, parallel, dryRun, CancellationToken.None).ConfigureAwait(false);
                var plan = result.Plan.Select(p => new EvacuationPlanEntry(p.Guest, p.Destination ?? "", (ulong)p.Bytes, p.Refusals)).ToList();
                return [(LocalMigrate.Contract.Client.ArgumentWriter)((ref MessageWriter w) => EvacuationPlanEntry.WriteArray(ref w, plan)),
                        result.Jobs.Select(j => BusContract.JobPath(j.Id)).ToArray()];
            })
            .Complete();
    }

    private static int? ReadParallel(IReadOnlyDictionary<string, object> raw) =>
        raw.TryGetValue(BusContract.MigrateOptions.Parallel, out var p)
            ? p is uint n and >= 1 and <= 64
                ? (int)n
                : throw new ArgumentException($"option {BusContract.MigrateOptions.Parallel}: bad value {BusValues.Describe(p)}, expected 1 to 64, type u")
            : null;
}
