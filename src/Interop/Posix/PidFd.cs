using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>pidfd_getfd(2): a duplicate of another process's open file (needs ptrace rights over it: root, or the same user).</summary>
public static class PidFd
{
    /// <returns>A new fd (O_CLOEXEC) in this process for the open file <paramref name="targetFd"/> of process <paramref name="pid"/>.</returns>
    /// <exception cref="IOException">The process or its fd is gone, or the kernel refused.</exception>
    public static int DuplicateFrom(int pid, int targetFd)
    {
        var pidfd = (int)LibC.syscall(LibC.SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
            throw new IOException($"pidfd_open({pid}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        try
        {
            var fd = (int)LibC.syscall3(LibC.SYS_pidfd_getfd, pidfd, targetFd, 0);
            if (fd < 0)
                throw new IOException($"pidfd_getfd(pid {pid}, fd {targetFd}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            return fd;
        }
        finally
        {
            LibC.close(pidfd);
        }
    }

    /// <summary>
    /// The fd of process <paramref name="pid"/> open on the tap named <paramref name="tapName"/>: the one whose fdinfo says
    /// <c>iff:\t&lt;name&gt;</c> (drivers/net/tun.c, tun_chr_show_fdinfo).
    /// </summary>
    /// <returns>The fd number, or null when the process holds no such fd (or is gone).</returns>
    public static int? FindTapFd(int pid, string tapName)
    {
        foreach (var fd in ProcFs.OpenFds(pid))
        {
            try
            {
                // Not the link's text: it names /dev/net/tun only while the mount the tap was opened through is still
                // attached. A tap handed on by pidfd_getfd from a daemon that has since exited (its mount namespace,
                // from `ip netns exec` or systemd's sandboxing, gone with its last process) reads "/net/tun". Only tun
                // files print an iff: line.
                foreach (var line in File.ReadLines($"/proc/{pid}/fdinfo/{fd}"))
                {
                    if (line.StartsWith("iff:", StringComparison.Ordinal) && line[4..].Trim() == tapName)
                        return fd;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The fd closed while we looked.
            }
        }
        return null;
    }
}
