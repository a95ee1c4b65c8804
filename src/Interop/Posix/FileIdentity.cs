using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>Device and inode of a file: what tells a replaced binary from the one a process runs (stat(2)).</summary>
public sealed record FileIdentity(ulong Device, ulong Inode)
{
    /// <returns>null when the file does not exist or cannot be read.</returns>
    public static unsafe FileIdentity? TryRead(string path)
    {
        var buffer = stackalloc byte[256];
        if (LibC.stat(path, buffer) != 0)
            return null;
        return new FileIdentity(*(ulong*)buffer, *(ulong*)(buffer + 8));
    }

    public static FileIdentity? TryReadOfProcessExecutable(int pid) => TryRead($"/proc/{pid}/exe");

    internal static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
}
