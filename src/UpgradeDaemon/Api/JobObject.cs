using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Migration;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary><see cref="JobContract"/> for one migration, at <see cref="BusContract.JobPath"/>.</summary>
internal static class JobObject
{
    public static ExportedInterface Build(MigrationJob job, CallerPolicy policy) =>
        new ExportedInterface(JobContract.Interface)
            .Get(JobContract.Id, () => VariantValue.String(job.Id))
            .Get(JobContract.Domain, () => VariantValue.String(job.DomainName))
            .Get(JobContract.Kind, () => VariantValue.String(ContractStrings.Of(job.Kind)))
            .Get(JobContract.Phase, () => VariantValue.String(job.Phase.ToString()))
            .Get(JobContract.State, () => VariantValue.String(ContractStrings.Of(job.State)))
            .Get(JobContract.Progress, () => VariantValue.Double(job.Progress))
            .Get(JobContract.DataTotal, () => VariantValue.UInt64((ulong)job.DataTotal))
            .Get(JobContract.DataRemaining, () => VariantValue.UInt64((ulong)job.DataRemaining))
            .Get(JobContract.DowntimeMs, () => VariantValue.UInt64((ulong)job.Stats.DowntimeMs))
            .Get(JobContract.TotalMs, () => VariantValue.UInt64((ulong)job.Stats.TotalMs))
            .Get(JobContract.TransferredBytes, () => VariantValue.UInt64((ulong)job.Stats.TransferredBytes))
            .Get(JobContract.SourcePid, () => VariantValue.UInt32((uint)job.Stats.SourcePid))
            .Get(JobContract.TargetPid, () => VariantValue.UInt32((uint)job.Stats.TargetPid))
            .Get(JobContract.SourceVersion, () => VariantValue.String(job.Stats.SourceVersion ?? ""))
            .Get(JobContract.TargetVersion, () => VariantValue.String(job.Stats.TargetVersion ?? ""))
            .Get(JobContract.Error, () => VariantValue.String(job.Error ?? ""))
            .Get(JobContract.StartedAt, () => VariantValue.UInt64((ulong)job.StartedAt.ToUnixTimeMilliseconds()))
            .Get(JobContract.DataTransferred, () => VariantValue.UInt64((ulong)job.LastProgress.Transferred))
            .Get(JobContract.TransferRate, () => VariantValue.UInt64((ulong)job.LastProgress.Rate))
            .Get(JobContract.DirtyRate, () => VariantValue.UInt64((ulong)job.LastProgress.DirtyRate))
            .Get(JobContract.Passes, () => VariantValue.UInt64((ulong)job.LastProgress.Passes))
            .Get(JobContract.ExpectedDowntimeMs, () => VariantValue.UInt64((ulong)job.LastProgress.ExpectedDowntimeMs))
            .Get(JobContract.CpuThrottlePercent, () => VariantValue.UInt32((uint)job.LastProgress.CpuThrottlePercent))
            .Get(JobContract.ConvergeAction, () => VariantValue.String(job.ConvergeAction))
            .Get(JobContract.SourceCapabilities, Cached(() => job.SourceSettings, s => VariantValue.Array(s.Capabilities.ToArray())))
            .Get(JobContract.SourceParameters, Cached(() => job.SourceSettings, Parameters))
            .Get(JobContract.TargetCapabilities, Cached(() => job.TargetSettings, s => VariantValue.Array(s.Capabilities.ToArray())))
            .Get(JobContract.TargetParameters, Cached(() => job.TargetSettings, Parameters))
            .Get(JobContract.Destination, () => VariantValue.String(job.Destination?.Text ?? ""))
            .Get(JobContract.RetriedBy, () => VariantValue.String(job.RetriedBy ?? ""))
            .Get(JobContract.Transfer, () => VariantValue.String(job.GuestPausedForTransfer ? BusContract.Transfers.Paused : BusContract.Transfers.Live))
            .On(JobContract.Cancel, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var refusal = job.RequestCancel();
                if (refusal is not null)
                    throw new MigrationBusyException(refusal);
                return [];
            })
            .Complete();

    private static VariantValue Parameters(MigrationSideSettings settings) =>
        new Dict<string, string>(settings.Parameters.ToDictionary()).AsVariantValue();

    /// <summary>
    /// The same VariantValue while the settings object is the same: containers compare by reference, so a fresh one on
    /// every read would be announced as changed on every progress tick.
    /// </summary>
    private static Func<VariantValue> Cached(Func<MigrationSideSettings> current, Func<MigrationSideSettings, VariantValue> convert)
    {
        var gate = new object();
        MigrationSideSettings? last = null;
        var value = default(VariantValue);
        return () =>
        {
            lock (gate)
            {
                var now = current();
                if (!ReferenceEquals(now, last))
                {
                    value = convert(now);
                    last = now;
                }
                return value;
            }
        };
    }
}
