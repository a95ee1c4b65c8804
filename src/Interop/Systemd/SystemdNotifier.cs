using System.Globalization;
using LocalMigrate.Interop.Systemd.Native;
using Serilog;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Service manager notifications through sd_notify(3). Outside systemd (no NOTIFY_SOCKET) every call is a
/// no-op returning false, so the daemon still runs from a terminal. libsystemd reads NOTIFY_SOCKET with
/// getenv(3): tests set it with <see cref="NativeEnvironment"/>, not Environment.SetEnvironmentVariable.
/// https://www.freedesktop.org/software/systemd/man/sd_notify.html
/// </summary>
public static class SystemdNotifier
{
    private static readonly ILogger Log = Serilog.Log.ForContext(typeof(SystemdNotifier));

    /// <summary>True when the service manager gave us a notification socket (NOTIFY_SOCKET, native environment).</summary>
    public static bool IsUnderSystemd => !string.IsNullOrEmpty(NativeEnvironment.Get("NOTIFY_SOCKET"));

    /// <summary>READY=1: start-up finished (Type=notify).</summary>
    public static bool Ready() => Notify("READY=1");

    /// <summary>STOPPING=1: shutdown has begun.</summary>
    public static bool Stopping() => Notify("STOPPING=1");

    /// <summary>STATUS=…: one line shown by systemctl status.</summary>
    public static bool Status(string status) => Notify("STATUS=" + status.ReplaceLineEndings(" "));

    /// <summary>WATCHDOG=1: keep-alive ping for WatchdogSec=.</summary>
    public static bool Watchdog() => Notify("WATCHDOG=1");

    /// <summary>EXTEND_TIMEOUT_USEC=…: asks for more time in the current start/stop phase.</summary>
    public static bool ExtendTimeout(TimeSpan extra) =>
        Notify("EXTEND_TIMEOUT_USEC=" + ToMicroseconds(extra).ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// The watchdog interval if the service manager expects WATCHDOG=1 pings (sd_watchdog_enabled(3));
    /// ping at half of it.
    /// </summary>
    public static TimeSpan? WatchdogInterval()
    {
        var rc = SdDaemon.WatchdogEnabled(0, out var usec);
        if (rc < 0)
        {
            Log.Warning("sd_watchdog_enabled failed with errno {Errno}", -rc);
        }

        return rc > 0 ? TimeSpan.FromMicroseconds(usec) : null;
    }

    /// <summary>Sends any state string (newline-separated assignments, see sd_notify(3)).</summary>
    public static bool Notify(string state)
    {
        var rc = SdDaemon.Notify(0, state);
        if (rc < 0)
        {
            Log.Warning("sd_notify({State}) failed with errno {Errno}", state, -rc);
        }

        return rc > 0;
    }

    private static ulong ToMicroseconds(TimeSpan value) =>
        value <= TimeSpan.Zero ? 0 : (ulong)(value.Ticks / TimeSpan.TicksPerMicrosecond);
}
