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
    public ulong DataTransferred { get; init; }
    public ulong TransferRate { get; init; }
    public ulong DirtyRate { get; init; }
    public ulong Passes { get; init; }
    public ulong ExpectedDowntimeMs { get; init; }
    public uint CpuThrottlePercent { get; init; }
    public string ConvergeAction { get; init; } = "";
    public IReadOnlyList<string> SourceCapabilities { get; init; } = [];
    public IReadOnlyDictionary<string, string> SourceParameters { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> TargetCapabilities { get; init; } = [];
    public IReadOnlyDictionary<string, string> TargetParameters { get; init; } = new Dictionary<string, string>();

    /// <summary>A remote job's destination URI; "" for a local one.</summary>
    public string Destination { get; init; } = "";

    /// <summary>The id of the job that retries this one's move on another host (evacuate); "" when none.</summary>
    public string RetriedBy { get; init; } = "";

    /// <summary>"live" or "paused" (the guest was stopped for the whole copy).</summary>
    public string Transfer { get; init; } = "";

    /// <summary>The failed attempts this job retries, oldest first (filled in by <see cref="JobWatcher"/>).</summary>
    public IReadOnlyList<JobInfo> EarlierAttempts { get; init; } = [];

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
            read.String(JobContract.SourceVersion), read.String(JobContract.TargetVersion), read.String(JobContract.Error))
        {
            DataTransferred = read.UInt64(JobContract.DataTransferred), TransferRate = read.UInt64(JobContract.TransferRate),
            DirtyRate = read.UInt64(JobContract.DirtyRate), Passes = read.UInt64(JobContract.Passes),
            ExpectedDowntimeMs = read.UInt64(JobContract.ExpectedDowntimeMs), CpuThrottlePercent = read.UInt32(JobContract.CpuThrottlePercent),
            ConvergeAction = read.String(JobContract.ConvergeAction),
            SourceCapabilities = read.Strings(JobContract.SourceCapabilities), SourceParameters = read.StringMap(JobContract.SourceParameters),
            TargetCapabilities = read.Strings(JobContract.TargetCapabilities), TargetParameters = read.StringMap(JobContract.TargetParameters),
            Destination = read.String(JobContract.Destination), RetriedBy = read.String(JobContract.RetriedBy),
            Transfer = read.String(JobContract.Transfer),
        };
    }

    /// <summary>The result document of --json (DESIGN.md: downtimeMs, totalMs, transferredBytes, sourcePid, targetPid, phase).</summary>
    public JsonObject ToJson() => new()
    {
        ["job"] = Id, ["domain"] = Domain, ["kind"] = Kind, ["state"] = State, ["phase"] = Phase, ["progress"] = Progress,
        ["downtimeMs"] = DowntimeMs, ["totalMs"] = TotalMs, ["transferredBytes"] = TransferredBytes,
        ["sourcePid"] = SourcePid, ["targetPid"] = TargetPid, ["sourceVersion"] = SourceVersion, ["targetVersion"] = TargetVersion,
        ["error"] = Error.Length == 0 ? null : Error,
        ["dataTotal"] = DataTotal, ["dataRemaining"] = DataRemaining, ["dataTransferred"] = DataTransferred, ["transferRate"] = TransferRate,
        ["dirtyRate"] = DirtyRate, ["passes"] = Passes, ["expectedDowntimeMs"] = ExpectedDowntimeMs, ["cpuThrottlePercent"] = CpuThrottlePercent,
        ["convergeAction"] = ConvergeAction.Length == 0 ? null : ConvergeAction,
        ["source"] = Side(SourceCapabilities, SourceParameters),
        ["target"] = Side(TargetCapabilities, TargetParameters),
        ["destination"] = Destination.Length == 0 ? null : Destination,
        ["transfer"] = Transfer.Length == 0 ? null : Transfer,
        ["earlierAttempts"] = Output.Array(EarlierAttempts, a => new JsonObject
        {
            ["job"] = a.Id, ["destination"] = a.Destination.Length == 0 ? null : a.Destination, ["state"] = a.State, ["phase"] = a.Phase,
            ["error"] = a.Error.Length == 0 ? null : a.Error,
        }),
    };

    /// <summary>What one QEMU holds, as read back after the daemon set it.</summary>
    private static JsonObject Side(IReadOnlyList<string> capabilities, IReadOnlyDictionary<string, string> parameters) => new()
    {
        ["capabilities"] = Output.Strings(capabilities),
        ["parameters"] = new JsonObject(parameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))),
    };
}
