using System.Text.Json.Nodes;
using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.Cli;

/// <summary>A Job object's properties.</summary>
internal sealed record JobInfo(
    string Path, string Id, string Domain, string Kind, string Phase, string State, double Progress, ulong DataTotal,
    ulong DataRemaining, ulong DowntimeMs, ulong TotalMs, ulong TransferredBytes, uint SourcePid, uint TargetPid,
    string SourceVersion, string TargetVersion, string Error)
{
    public bool IsRunning => State == BusContract.JobStates.Running;

    public bool IsCompleted => State == BusContract.JobStates.Completed;

    public static JobInfo From(string path, IReadOnlyDictionary<string, VariantValue> p)
    {
        var read = new PropertyReader(p);
        return new(path,
            read.String(JobContract.Id), read.String(JobContract.Domain), read.String(JobContract.Kind), read.String(JobContract.Phase),
            read.String(JobContract.State), read.Double(JobContract.Progress), read.UInt64(JobContract.DataTotal),
            read.UInt64(JobContract.DataRemaining), read.UInt64(JobContract.DowntimeMs), read.UInt64(JobContract.TotalMs),
            read.UInt64(JobContract.TransferredBytes), read.UInt32(JobContract.SourcePid), read.UInt32(JobContract.TargetPid),
            read.String(JobContract.SourceVersion), read.String(JobContract.TargetVersion), read.String(JobContract.Error));
    }

    /// <summary>The result document of --json (DESIGN.md: downtimeMs, totalMs, transferredBytes, sourcePid, targetPid, phase).</summary>
    public JsonObject ToJson() => new()
    {
        ["job"] = Id, ["domain"] = Domain, ["kind"] = Kind, ["state"] = State, ["phase"] = Phase, ["progress"] = Progress,
        ["downtimeMs"] = DowntimeMs, ["totalMs"] = TotalMs, ["transferredBytes"] = TransferredBytes,
        ["sourcePid"] = SourcePid, ["targetPid"] = TargetPid, ["sourceVersion"] = SourceVersion, ["targetVersion"] = TargetVersion,
        ["error"] = Error.Length == 0 ? null : Error,
    };
}
