using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>kill(2) for a process identity, so a recycled pid is never signalled.</summary>
public static class Signals
{
    /// <returns>false when the process is already gone.</returns>
    public static bool Send(ProcessIdentity process, int signal)
    {
        if (!ProcFs.IsAlive(process))
            return false;
        if (LibC.kill(process.Pid, signal) == 0)
            return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == LibC.ESRCH)
            return false;
        throw new IOException($"kill({process.Pid}, {signal}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    public static bool Kill(ProcessIdentity process) => Send(process, LibC.SIGKILL);

    public static bool Terminate(ProcessIdentity process) => Send(process, LibC.SIGTERM);
}
