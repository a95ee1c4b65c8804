using System.CommandLine;
using Tmds.DBus.Protocol;
using LocalMigrate.Contract;

namespace LocalMigrate.Cli.Commands;

/// <summary>The migration options shared by migrate and upgrade, sent as the a{sv} of the D-Bus call.</summary>
internal sealed class MigrateOptionArguments
{
    public Option<string?> TargetBinary { get; } = new("--target-binary") { Description = "QEMU binary of the new process (default: the domain's configured binary)" };
    public Option<ulong?> MaxBandwidth { get; } = new("--max-bandwidth") { Description = "bytes per second (default: unlimited on one host)" };
    public Option<uint?> DowntimeLimit { get; } = new("--downtime-limit") { Description = "milliseconds QEMU may pause the guest for the switch" };
    public Option<uint?> Timeout { get; } = new("--timeout") { Description = "seconds before the migration is abandoned and rolled back" };
    public Option<bool> Json { get; } = new("--json") { Description = "one JSON document on stdout" };

    public void AddTo(Command command)
    {
        command.Options.Add(TargetBinary);
        command.Options.Add(MaxBandwidth);
        command.Options.Add(DowntimeLimit);
        command.Options.Add(Timeout);
        command.Options.Add(Json);
    }

    public Dictionary<string, VariantValue> ToDictionary(ParseResult parsed)
    {
        var options = new Dictionary<string, VariantValue>();
        if (parsed.GetValue(TargetBinary) is { } binary)
            options[BusContract.MigrateOptions.TargetBinary] = VariantValue.String(Path.GetFullPath(binary));
        if (parsed.GetValue(MaxBandwidth) is { } bandwidth)
            options[BusContract.MigrateOptions.MaxBandwidth] = VariantValue.UInt64(bandwidth);
        if (parsed.GetValue(DowntimeLimit) is { } downtime)
            options[BusContract.MigrateOptions.DowntimeLimitMs] = VariantValue.UInt32(downtime);
        if (parsed.GetValue(Timeout) is { } timeout)
            options[BusContract.MigrateOptions.TimeoutSeconds] = VariantValue.UInt32(timeout);
        return options;
    }
}
