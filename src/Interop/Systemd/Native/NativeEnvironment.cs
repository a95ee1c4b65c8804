using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>
/// The process environment as libsystemd sees it. .NET keeps its own copy:
/// Environment.SetEnvironmentVariable never reaches getenv(3), which sd_notify(3) and
/// sd_watchdog_enabled(3) use. Not thread-safe against concurrent getenv, like setenv(3) itself.
/// </summary>
internal static class NativeEnvironment
{
    public static void Set(string name, string? value)
    {
        var rc = value is null ? LibC.UnsetEnv(name) : LibC.SetEnv(name, value, 1);
        if (rc != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static string? Get(string name) => Marshal.PtrToStringUTF8(LibC.GetEnv(name));
}
