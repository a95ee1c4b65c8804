using System.Text.Json.Nodes;

namespace LocalMigrate.Cli;

/// <summary>A Job object's properties.</summary>
internal sealed record JobInfo(
    string Path, string Id, string Domain, string Kind, string Phase, string State, double Progress, ulong DataTotal,
    ulong DataRemaining, ulong DowntimeMs, ulong TotalMs, ulong TransferredBytes, uint SourcePid, uint TargetPid,
    string SourceVersion, string TargetVersion, string Error)
{
    public bool IsRunning => State == "running";

    public static JobInfo From(string path, IReadOnlyDictionary<string, object> p) => new(path,
        DomainInfo.Get<string>(p, "Id"), DomainInfo.Get<string>(p, "Domain"), DomainInfo.Get<string>(p, "Kind"),
        DomainInfo.Get<string>(p, "Phase"), DomainInfo.Get<string>(p, "State"), DomainInfo.Get<double>(p, "Progress"),
        DomainInfo.Get<ulong>(p, "DataTotal"), DomainInfo.Get<ulong>(p, "DataRemaining"), DomainInfo.Get<ulong>(p, "DowntimeMs"),
        DomainInfo.Get<ulong>(p, "TotalMs"), DomainInfo.Get<ulong>(p, "TransferredBytes"), DomainInfo.Get<uint>(p, "SourcePid"),
        DomainInfo.Get<uint>(p, "TargetPid"), DomainInfo.Get<string>(p, "SourceVersion"), DomainInfo.Get<string>(p, "TargetVersion"),
        DomainInfo.Get<string>(p, "Error"));

    /// <summary>The result document of --json (DESIGN.md: downtimeMs, totalMs, transferredBytes, sourcePid, targetPid, phase).</summary>
    public JsonObject ToJson() => new()
    {
        ["job"] = Id, ["domain"] = Domain, ["kind"] = Kind, ["state"] = State, ["phase"] = Phase, ["progress"] = Progress,
        ["downtimeMs"] = DowntimeMs, ["totalMs"] = TotalMs, ["transferredBytes"] = TransferredBytes,
        ["sourcePid"] = SourcePid, ["targetPid"] = TargetPid, ["sourceVersion"] = SourceVersion, ["targetVersion"] = TargetVersion,
        ["error"] = Error.Length == 0 ? null : Error,
    };
}
