using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.Cli;

/// <summary>A Domain object's properties, as the CLI shows them.</summary>
internal sealed record DomainInfo(
    string Name, string Uuid, string State, uint Pid, string QemuBinary, string QemuVersion, string InstanceId,
    string RuntimeDirectory, bool Stale, IReadOnlyList<string> StaleReasons, string Machine, uint MemoryMiB,
    string MemoryBacking, string Job, string LastJob, string ConsoleLog, IReadOnlyList<string> Nics)
{
    public static DomainInfo From(IReadOnlyDictionary<string, VariantValue> p)
    {
        var read = new PropertyReader(p);
        return new(
            read.String(DomainContract.DomainName), read.String(DomainContract.Uuid), read.String(DomainContract.State), read.UInt32(DomainContract.Pid),
            read.String(DomainContract.QemuBinary), read.String(DomainContract.QemuVersion), read.String(DomainContract.InstanceId),
            read.String(DomainContract.RuntimeDirectory), read.Bool(DomainContract.Stale), read.Strings(DomainContract.StaleReasons),
            read.String(DomainContract.Machine), read.UInt32(DomainContract.MemoryMiB), read.String(DomainContract.MemoryBacking),
            read.ObjectPath(DomainContract.Job), read.ObjectPath(DomainContract.LastJob), read.String(DomainContract.ConsoleLog),
            read.Strings(DomainContract.Nics));
    }
}
