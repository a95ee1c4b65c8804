using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Snapshots;
using LocalMigrate.UpgradeDaemon.Upgrade;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary><see cref="DomainContract"/> for one domain, at <see cref="BusContract.DomainPath"/>.</summary>
internal static class DomainObject
{
    public static ExportedInterface Build(Domain domain, DomainService domains, MigrationService migrations, StaleDetector stale,
        InstanceLauncher launcher, SnapshotService snapshots, CallerPolicy policy)
    {
        var name = domain.Name;
        var consoleLog = launcher.ConsoleLogOf(name);
        return new ExportedInterface(DomainContract.Interface)
            .Get(DomainContract.DomainName, () => VariantValue.String(name))
            .Get(DomainContract.Uuid, () => VariantValue.String(domain.Definition.Uuid.ToString("D")))
            .Get(DomainContract.State, () => VariantValue.String(ContractStrings.Of(domain.State)))
            .Get(DomainContract.Pid, () => VariantValue.UInt32((uint)(domain.Active?.Pid ?? 0)))
            .Get(DomainContract.QemuBinary, () => VariantValue.String(domain.Active?.Binary ?? ""))
            .Get(DomainContract.QemuVersion, () => VariantValue.String(domain.Active?.QemuPackageVersion ?? ""))
            .Get(DomainContract.InstanceId, () => VariantValue.String(domain.Active?.InstanceId ?? ""))
            .Get(DomainContract.RuntimeDirectory, () => VariantValue.String(domain.Active?.Paths.Directory ?? ""))
            // The detector's cached report: no procfs read on the dispatch path; it invalidates the property when it changes.
            .Get(DomainContract.Stale, () => VariantValue.Bool(stale.Current(domain).IsStale))
            .Get(DomainContract.StaleReasons, () => VariantValue.Array(stale.Current(domain).Reasons.ToArray()))
            .Get(DomainContract.ConsoleLog, () => VariantValue.String(consoleLog))
            .Get(DomainContract.Machine, () => VariantValue.String(domain.Definition.Machine))
            .Get(DomainContract.MemoryMiB, () => VariantValue.UInt32((uint)domain.Definition.MemoryMiB))
            .Get(DomainContract.MemoryBacking, () => VariantValue.String(domain.Definition.MemoryBacking.ToString().ToLowerInvariant()))
            .Get(DomainContract.Job, () => JobPathOrRoot(domain.Job))
            .Get(DomainContract.LastJob, () => JobPathOrRoot(domain.LastJob))
            .Get(DomainContract.Nics, () => VariantValue.Array((domain.Active?.Record.Nics ?? []).ToArray()))
            .On(DomainContract.Start, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await domains.StartAsync(name, CancellationToken.None).ConfigureAwait(false);
                return [];
            })
            .On(DomainContract.Stop, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await domains.StopAsync(name, (bool)call.Args[0]!, CancellationToken.None).ConfigureAwait(false);
                return [];
            })
            .On(DomainContract.Migrate, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var uri = (string)call.Args[0]!;
                var destination = uri.Length > 0 ? Remote.PeerUri.Parse(uri) : null;
                var options = MigrationOptionsReader.Read((IReadOnlyDictionary<string, object>)call.Args[1]!, remote: destination is not null);
                if (destination is not null && options.TargetBinary is not null)
                    throw new ArgumentException("option targetBinary: the destination host picks its own QEMU binary");
                var kind = destination is not null ? MigrationKind.Remote : options.TargetBinary is null ? MigrationKind.Local : MigrationKind.Upgrade;
                var job = migrations.Start(name, kind, options, destination: destination);
                return [BusContract.JobPath(job.Id)];
            })
            .On(DomainContract.Cancel, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                return [BusContract.JobPath(migrations.Cancel(name).Id)];
            })
            .On(DomainContract.StartPostcopy, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var job = domain.Job ?? throw new MigrationBusyException($"domain {name} is not migrating");
                if (job.RequestPostcopy() is { } refusal)
                    throw new MigrationBusyException(refusal);
                return [BusContract.JobPath(job.Id)];
            })
            .On(DomainContract.Undefine, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await domains.UndefineAsync(name).ConfigureAwait(false);
                return [];
            })
            .On(DomainContract.CreateSnapshot, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await snapshots.CreateAsync(name, (string)call.Args[0]!, (bool)call.Args[1]!, CancellationToken.None).ConfigureAwait(false);
                return [];
            })
            .On(DomainContract.ListSnapshots, async _ =>
            {
                var entries = (await snapshots.ListAsync(name, CancellationToken.None).ConfigureAwait(false)).Select(ToEntry).ToList();
                return [(LocalMigrate.Contract.Client.ArgumentWriter)((ref MessageWriter w) => SnapshotEntry.WriteArray(ref w, entries))];
            })
            .On(DomainContract.RevertSnapshot, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await snapshots.RevertAsync(name, (string)call.Args[0]!, CancellationToken.None).ConfigureAwait(false);
                return [];
            })
            .On(DomainContract.DeleteSnapshot, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await snapshots.DeleteAsync(name, (string)call.Args[0]!, CancellationToken.None).ConfigureAwait(false);
                return [];
            })
            .Complete();
    }

    private static SnapshotEntry ToEntry(SnapshotListing listing) =>
        new(listing.Name, (ulong)Math.Max(0, listing.Created.ToUnixTimeSeconds()), listing.VmState, ContractStrings.Of(listing.Status),
            listing.Disks, listing.MissingFrom);

    private static VariantValue JobPathOrRoot(MigrationJob? job) =>
        VariantValue.ObjectPath(new ObjectPath(job is null ? "/" : BusContract.JobPath(job.Id)));
}
