using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>sd_notify(3), sd_watchdog_enabled(3) and sd_journal_sendv(3). Thread-safe in libsystemd.</summary>
internal static unsafe partial class SdDaemon
{
    private const string Lib = "libsystemd.so.0";

    [LibraryImport(Lib, EntryPoint = "sd_notify", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Notify(int unsetEnvironment, string state);

    [LibraryImport(Lib, EntryPoint = "sd_watchdog_enabled")]
    public static partial int WatchdogEnabled(int unsetEnvironment, out ulong usec);

    [LibraryImport(Lib, EntryPoint = "sd_journal_sendv")]
    public static partial int JournalSendv(IoVec* iov, int n);
}
