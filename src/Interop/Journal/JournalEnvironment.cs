using System.Globalization;

namespace LocalMigrate.Interop.Journal;

/// <summary>
/// Whether stderr is the journal stream systemd set up for this service: JOURNAL_STREAM holds "dev:ino" of that
/// stream, and it only counts if fstat(2) of fd 2 still shows the same device and inode (a shell redirect
/// under systemd-run would not). https://www.freedesktop.org/software/systemd/man/systemd.exec.html#%24JOURNAL_STREAM
/// </summary>
public static class JournalEnvironment
{
    private const int StandardErrorFd = 2;

    public static bool IsStderrConnectedToJournal() =>
        IsConnectedToJournal(Environment.GetEnvironmentVariable("JOURNAL_STREAM"), StandardErrorFd);

    internal static unsafe bool IsConnectedToJournal(string? journalStream, int fd)
    {
        if (string.IsNullOrEmpty(journalStream))
        {
            return false;
        }

        var parts = journalStream.Split(':');
        if (parts.Length != 2
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var device)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
        {
            return false;
        }

        // struct stat begins with st_dev then st_ino, both 64-bit, on x86_64 and aarch64.
        var stat = stackalloc byte[256];
        new Span<byte>(stat, 256).Clear();
        if (Posix.LibC.fstat(fd, stat) != 0)
        {
            return false;
        }

        return ((ulong*)stat)[0] == device && ((ulong*)stat)[1] == inode;
    }
}
