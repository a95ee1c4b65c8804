using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// The sd_notify(3) messages the daemon sends itself (https://www.freedesktop.org/software/systemd/man/sd_notify.html)
/// and the watchdog interval systemd asked for (sd_watchdog_enabled(3): WATCHDOG_USEC, for this pid if WATCHDOG_PID is set).
/// </summary>
internal static class SystemdNotifications
{
    public static readonly ServiceState Watchdog = new("WATCHDOG=1");

    public static ServiceState Status(string line) => new("STATUS=" + line.ReplaceLineEndings(" "));

    public static ServiceState ExtendTimeout(TimeSpan by) =>
        new("EXTEND_TIMEOUT_USEC=" + ((long)by.TotalMicroseconds).ToString(CultureInfo.InvariantCulture));

    public static TimeSpan? WatchdogInterval()
    {
        if (!ulong.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec == 0)
            return null;
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            return null;
        return TimeSpan.FromMicroseconds(usec);
    }
}
