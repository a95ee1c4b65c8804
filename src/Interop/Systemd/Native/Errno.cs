using System.ComponentModel;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>libsystemd returns negative errno values; this turns them into exceptions with strerror text.</summary>
internal static class Errno
{
    public static int Check(int result, string what)
    {
        if (result < 0)
        {
            throw new IOException($"{what} failed: {new Win32Exception(-result).Message} (errno {-result})", -result);
        }

        return result;
    }
}
