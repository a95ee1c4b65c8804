using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// Tells whether a running QEMU runs the binary and libraries that are installed now:
/// - its executable was replaced or deleted (/proc/PID/exe " (deleted)", or the configured binary's
///   device/inode is not the one the process runs);
/// - a mapped shared library was replaced (" (deleted)" in /proc/PID/maps, the way needrestart checks);
/// - the installed binary reports another QEMU package version (when a probe of it is at hand).
/// Guest RAM files (the shared-memory dir, memfd) are mapped on purpose and never count.
/// </summary>
public sealed class StaleDetector(InstanceLauncher launcher, QemuBinaryProbe probe, Hosting.DaemonOptions options)
{
    public StaleReport Check(Domain domain)
    {
        var instance = domain.Active;
        return instance is null ? StaleReport.Fresh : Check(instance);
    }

    public StaleReport Check(DomainInstance instance)
    {
        var reasons = new List<string>();
        var exe = ProcFs.TryReadExecutable(instance.Pid);
        var configured = launcher.BinaryOf(instance.Definition);
        if (exe is not null && exe.EndsWith(" (deleted)", StringComparison.Ordinal))
            reasons.Add($"binary replaced or deleted: {exe}");
        else if (exe is not null && exe != configured)
            reasons.Add($"runs {exe}, configured binary is {configured}");
        else if (FileIdentity.TryRead(configured) is { } installed && FileIdentity.TryReadOfProcessExecutable(instance.Pid) is { } running && installed != running)
            reasons.Add($"{configured} was replaced (inode {running.Inode} running, {installed.Inode} installed)");

        foreach (var file in ProcFs.DeletedMappedFiles(instance.Pid))
        {
            if (file.StartsWith(options.SharedMemoryDirectory, StringComparison.Ordinal) || file.StartsWith("/memfd:", StringComparison.Ordinal)
                || file.StartsWith("/dev/", StringComparison.Ordinal) || file == exe?.Replace(" (deleted)", "", StringComparison.Ordinal))
                continue;
            if (file.Contains(".so", StringComparison.Ordinal))
                reasons.Add($"library replaced: {file}");
        }

        if (probe.TryGetCached(configured) is { } info && instance.Record.QemuPackage is { } runningPackage
            && info.Package.Length > 0 && info.Package != runningPackage)
            reasons.Add($"QEMU {runningPackage} running, {info.Package} installed");
        return reasons.Count == 0 ? StaleReport.Fresh : new StaleReport(reasons);
    }
}
