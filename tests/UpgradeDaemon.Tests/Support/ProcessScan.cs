using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Finds QEMU processes through /proc by a directory their command line names: independent of the code under test.</summary>
internal static class ProcessScan
{
    public static IReadOnlyList<int> QemuUnder(string directory)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                var cmdline = ProcFs.ReadCommandLine(pid);
                if (cmdline.Count > 0 && cmdline[0].Contains("qemu-system") && cmdline.Any(a => a.Contains(directory + "/", StringComparison.Ordinal))
                    && ProcFs.TryReadIdentity(pid) is not null)
                    pids.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }
}
