using System.Text;

namespace LocalMigrate.Interop.Posix;

/// <summary>Reads of /proc (proc(5)).</summary>
public static class ProcFs
{
    /// <returns>The identity of a live process, or null when there is no such process (or it is a zombie).</returns>
    public static ProcessIdentity? TryReadIdentity(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0)
            return null;
        var fields = stat[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state); starttime is field 22, so index 19.
        if (fields.Length < 20 || fields[0] == "Z" || fields[0] == "X")
            return null;
        return new ProcessIdentity(pid, ulong.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <returns>The identity when the process is alive and still the same one.</returns>
    public static bool IsAlive(ProcessIdentity identity) => TryReadIdentity(identity.Pid) == identity;

    public static IReadOnlyList<string> ReadCommandLine(int pid)
    {
        var bytes = File.ReadAllBytes($"/proc/{pid}/cmdline");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Split('\0');
    }

    /// <returns>The target of /proc/PID/exe; ends in " (deleted)" when the binary was replaced or removed.</returns>
    public static string? TryReadExecutable(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <returns>Every file mapped by the process (/proc/PID/maps), once each, sorted; a replaced or deleted one
    /// with the kernel's " (deleted)" suffix. Empty when the process is gone.</returns>
    public static IReadOnlyList<string> MappedFiles(int pid)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
            {
                var slash = line.IndexOf('/');
                if (slash >= 0)
                    result.Add(line[slash..]);
            }
        }
        catch (IOException)
        {
        }
        return result.ToList();
    }

    /// <returns>The mapped files that were replaced or deleted since they were mapped, without the suffix: the way
    /// needrestart finds processes running old libraries.</returns>
    public static IReadOnlyList<string> DeletedMappedFiles(int pid)
    {
        const string Deleted = " (deleted)";
        return MappedFiles(pid).Where(f => f.EndsWith(Deleted, StringComparison.Ordinal)).Select(f => f[..^Deleted.Length]).ToList();
    }

    /// <returns>The numbers of the process's open fds (/proc/PID/fd); empty when the process is gone or not ours to read.
    /// An fd may close right after: whoever looks at one must expect it gone.</returns>
    public static IReadOnlyList<int> OpenFds(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd")
                .Select(e => int.TryParse(Path.GetFileName(e), out var fd) ? fd : -1).Where(fd => fd >= 0).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <returns>MemAvailable of /proc/meminfo in bytes.</returns>
    public static long MemAvailableBytes()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
