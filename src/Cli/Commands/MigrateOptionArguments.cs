using System.CommandLine;
using Tmds.DBus.Protocol;
using LocalMigrate.Contract;
using Key = LocalMigrate.Contract.BusContract.MigrateOptions;

namespace LocalMigrate.Cli.Commands;

/// <summary>
/// The migration options shared by migrate and upgrade, sent as the a{sv} of the D-Bus call under the canonical keys.
/// The flag names follow virsh migrate and Salt's virt.migrate; the daemon checks the values and combinations.
/// </summary>
internal sealed class MigrateOptionArguments
{
    public Option<string?> TargetBinary { get; } = new("--target-binary") { Description = "QEMU binary of the new process (default: the domain's configured binary)" };
    public Option<ulong?> MaxBandwidth { get; } = new("--max-bandwidth") { Description = "bytes per second (default: unlimited on one host)" };
    public Option<ulong?> MaxBandwidthMiB { get; } = new("--max-bandwidth-mib") { Description = "MiB per second (Salt max_bandwidth); QEMU max-bandwidth" };
    public Option<uint?> DowntimeLimit { get; } = new("--downtime-limit", "--max-downtime") { Description = "milliseconds QEMU may pause the guest for the switch (QEMU downtime-limit, default 300)" };
    public Option<uint?> Timeout { get; } = new("--timeout") { Description = "seconds before the migration is abandoned and rolled back" };
    public Option<uint?> ParallelConnections { get; } = new("--parallel-connections") { Description = "multifd channels (QEMU multifd + multifd-channels on both sides); not with --postcopy or xbzrle" };
    public Option<bool> Compressed { get; } = new("--compressed") { Description = "compress with --comp-methods (default mt)" };
    public Option<string?> CompMethods { get; } = new("--comp-methods") { Description = "mt (multifd zstd/zlib compression) or xbzrle (delta pages, source cache); not both" };
    public Option<string?> CompMtAlgorithm { get; } = new("--comp-mt-algorithm") { Description = "zstd (default) or zlib (QEMU multifd-compression, both sides)" };
    public Option<uint?> CompMtLevel { get; } = new("--comp-mt-level") { Description = "zstd 0-20, zlib 0-9; refused when the source runs QEMU before 9.0, which ignores it" };
    public Option<uint?> CompMtThreads { get; } = new("--comp-mt-threads") { Description = "compression threads: multifd compresses per channel, so the channel count" };
    public Option<ulong?> CompXbzrleCache { get; } = new("--comp-xbzrle-cache") { Description = "MiB of xbzrle cache on the source (QEMU xbzrle-cache-size)" };
    public Option<bool> Postcopy { get; } = new("--postcopy") { Description = "enable postcopy (QEMU postcopy-ram on both sides); switch with migrate-postcopy or --converge-policy postcopy" };
    public Option<ulong?> PostcopyBandwidth { get; } = new("--postcopy-bandwidth") { Description = "MiB per second once in postcopy (default unlimited)" };
    public Option<bool> AutoConverge { get; } = new("--auto-converge") { Description = "let QEMU throttle the guest's vCPUs until the migration converges" };
    public Option<bool> Offline { get; } = new("--offline") { Description = "move only the definition, nothing runs (remote migrations)" };
    public Option<bool> NoPersistent { get; } = new("--no-persistent") { Description = "do not define the domain on the destination (remote migrations)" };
    public Option<bool> KeepSource { get; } = new("--keep-source") { Description = "keep a stopped copy of the definition on the source (Salt undefinesource=false; remote migrations)" };
    public Option<string?> CopyStorage { get; } = new("--copy-storage") { Description = "all (copy every disk that is neither shared nor read-only) or inc (only the top layer: backing files are on the destination); remote migrations (Salt copy_storage)" };
    public Option<string?> ConvergePolicy { get; } = new("--converge-policy") { Description = "when it does not converge: cancel (default; the source runs on), postcopy (needs --postcopy) or pause (QEMU stops the guest to copy the rest)" };
    public Option<uint?> ConvergePasses { get; } = new("--converge-passes") { Description = "passes in a row with the expected downtime above the limit before the policy acts (default 30)" };
    public Option<uint?> ConvergeTimeout { get; } = new("--converge-timeout") { Description = "seconds after which a migration still running counts as not converging" };
    public Option<bool?> PauseGuest { get; } = new("--pause-guest") { Description = "true: keep the guest paused for the whole copy (virsh migrate without --live); false: copy live even on QEMU before 9.0 under TCG, which can lose guest writes (default: paused only there)" };
    public Option<bool> Json { get; } = new("--json") { Description = "one JSON document on stdout" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
                 {
                     TargetBinary, MaxBandwidth, MaxBandwidthMiB, DowntimeLimit, Timeout, ParallelConnections, Compressed, CompMethods, CompMtAlgorithm,
                     CompMtLevel, CompMtThreads, CompXbzrleCache, Postcopy, PostcopyBandwidth, AutoConverge, Offline, NoPersistent, KeepSource,
                     CopyStorage, ConvergePolicy, ConvergePasses, ConvergeTimeout, PauseGuest, Json,
                 })
            command.Options.Add(option);
    }

    public Dictionary<string, VariantValue> ToDictionary(ParseResult parsed)
    {
        var options = new Dictionary<string, VariantValue>();
        if (parsed.GetValue(TargetBinary) is { } binary)
            options[Key.TargetBinary] = VariantValue.String(Path.GetFullPath(binary));
        if (parsed.GetValue(MaxBandwidth) is { } bandwidth)
            options[Key.MaxBandwidth] = VariantValue.UInt64(bandwidth);
        // Under Salt's name: the daemon converts MiB/s and refuses it beside a different --max-bandwidth.
        if (parsed.GetValue(MaxBandwidthMiB) is { } mib)
            options[Key.Salt.MaxBandwidth] = VariantValue.UInt64(mib);
        if (parsed.GetValue(DowntimeLimit) is { } downtime)
            options[Key.DowntimeLimitMs] = VariantValue.UInt32(downtime);
        if (parsed.GetValue(Timeout) is { } timeout)
            options[Key.TimeoutSeconds] = VariantValue.UInt32(timeout);
        if (parsed.GetValue(ParallelConnections) is { } channels)
            options[Key.ParallelConnections] = VariantValue.UInt32(channels);
        if (parsed.GetValue(Compressed))
            options[Key.Compressed] = VariantValue.Bool(true);
        if (parsed.GetValue(CompMethods) is { } methods)
            options[Key.CompMethods] = VariantValue.String(methods);
        if (parsed.GetValue(CompMtAlgorithm) is { } algorithm)
            options[Key.CompMtAlgorithm] = VariantValue.String(algorithm);
        if (parsed.GetValue(CompMtLevel) is { } level)
            options[Key.CompMtLevel] = VariantValue.UInt32(level);
        if (parsed.GetValue(CompMtThreads) is { } threads)
            options[Key.CompMtThreads] = VariantValue.UInt32(threads);
        if (parsed.GetValue(CompXbzrleCache) is { } cache)
            options[Key.CompXbzrleCacheMiB] = VariantValue.UInt64(cache);
        if (parsed.GetValue(Postcopy))
            options[Key.Postcopy] = VariantValue.Bool(true);
        if (parsed.GetValue(PostcopyBandwidth) is { } postcopyMib)
            options[Key.Salt.PostcopyBandwidth] = VariantValue.UInt64(postcopyMib);
        if (parsed.GetValue(AutoConverge))
            options[Key.AutoConverge] = VariantValue.Bool(true);
        if (parsed.GetValue(Offline))
            options[Key.Offline] = VariantValue.Bool(true);
        if (parsed.GetValue(NoPersistent))
            options[Key.Persistent] = VariantValue.Bool(false);
        if (parsed.GetValue(KeepSource))
            options[Key.UndefineSource] = VariantValue.Bool(false);
        if (parsed.GetValue(CopyStorage) is { } copyStorage)
            options[Key.CopyStorage] = VariantValue.String(copyStorage);
        if (parsed.GetValue(ConvergePolicy) is { } policy)
            options[Key.ConvergePolicy] = VariantValue.String(policy);
        if (parsed.GetValue(ConvergePasses) is { } passes)
            options[Key.ConvergePasses] = VariantValue.UInt32(passes);
        if (parsed.GetValue(ConvergeTimeout) is { } convergeTimeout)
            options[Key.ConvergeTimeoutSeconds] = VariantValue.UInt32(convergeTimeout);
        if (parsed.GetValue(PauseGuest) is { } pauseGuest)
            options[Key.PauseGuest] = VariantValue.Bool(pauseGuest);
        return options;
    }
}
