using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary><c>org.localmigrate1.Job</c> for one migration, at <see cref="BusContract.JobPath"/>.</summary>
internal static class JobObject
{
    public static BusInterface Build(MigrationJob job, MigrationService migrations, CallerPolicy policy) =>
        new BusInterfaceBuilder(BusContract.JobInterface)
            .Property("Id", "s", () => job.Id, BusPropertyFlags.Const)
            .Property("Domain", "s", () => job.DomainName, BusPropertyFlags.Const)
            .Property("Kind", "s", () => job.Kind.ToString().ToLowerInvariant(), BusPropertyFlags.Const)
            .Property("Phase", "s", () => job.Phase.ToString(), BusPropertyFlags.EmitsChange)
            .Property("State", "s", () => job.State.ToString().ToLowerInvariant(), BusPropertyFlags.EmitsChange)
            .Property("Progress", "d", () => job.Progress, BusPropertyFlags.EmitsChange)
            .Property("DataTotal", "t", () => (ulong)job.DataTotal, BusPropertyFlags.EmitsChange)
            .Property("DataRemaining", "t", () => (ulong)job.DataRemaining, BusPropertyFlags.EmitsChange)
            .Property("DowntimeMs", "t", () => (ulong)job.Stats.DowntimeMs, BusPropertyFlags.EmitsChange)
            .Property("TotalMs", "t", () => (ulong)job.Stats.TotalMs, BusPropertyFlags.EmitsChange)
            .Property("TransferredBytes", "t", () => (ulong)job.Stats.TransferredBytes, BusPropertyFlags.EmitsChange)
            .Property("SourcePid", "u", () => (uint)job.Stats.SourcePid, BusPropertyFlags.EmitsChange)
            .Property("TargetPid", "u", () => (uint)job.Stats.TargetPid, BusPropertyFlags.EmitsChange)
            .Property("SourceVersion", "s", () => job.Stats.SourceVersion ?? "", BusPropertyFlags.EmitsChange)
            .Property("TargetVersion", "s", () => job.Stats.TargetVersion ?? "", BusPropertyFlags.EmitsChange)
            .Property("Error", "s", () => job.Error ?? "", BusPropertyFlags.EmitsChange)
            .Property("StartedAt", "t", () => (ulong)job.StartedAt.ToUnixTimeMilliseconds(), BusPropertyFlags.Const)
            .Method("Cancel", "", "", call => ApiErrors.Guard(async () =>
            {
                policy.RequireMutate(call);
                var refusal = job.RequestCancel();
                if (refusal is not null)
                    throw new MigrationBusyException(refusal);
                return await Task.FromResult<object?[]>([]).ConfigureAwait(false);
            }))
            .Build();
}
