using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>Plain fds for handing to a child process (<see cref="DetachedProcess"/>), where a SafeHandle would be in the way.</summary>
public static class RawFd
{
    /// <returns>An fd (O_RDWR | O_CLOEXEC) of <paramref name="path"/>, or -1 with the reason when it cannot be opened.</returns>
    public static int TryOpenReadWrite(string path, out string? why)
    {
        var fd = LibC.open(path, LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        why = fd < 0 ? Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()) : null;
        return fd;
    }

    public static void Close(int fd) => LibC.close(fd);
}
