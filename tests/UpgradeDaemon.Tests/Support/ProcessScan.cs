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
                    && !IsBinaryProbe(cmdline) && ProcFs.TryReadIdentity(pid) is not null)
                    pids.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }

    /// <summary>
    /// The daemon asks a binary for its version with <c>-machine none</c> (no guest, gone within a second), e.g. on a
    /// restart for the stale check of an adopted VM: not one of the VMs a test counts.
    /// </summary>
    private static bool IsBinaryProbe(IReadOnlyList<string> cmdline)
    {
        for (var i = 0; i + 1 < cmdline.Count; i++)
        {
            if (cmdline[i] == "-machine" && cmdline[i + 1] == "none")
                return true;
        }
        return false;
    }
}
