using System.Text;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Tests.Systemd;

[Collection(GlobalStateCollection.Name)]
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lm-notify-").FullName;
    private readonly DatagramListener _listener;

    public SystemdNotifierTests()
    {
        _listener = new DatagramListener(Path.Combine(_directory, "notify"));

        // sd_notify reads getenv(3); Environment.SetEnvironmentVariable would not reach it.
        NativeEnvironment.Set("NOTIFY_SOCKET", _listener.Path);
    }

    public void Dispose()
    {
        NativeEnvironment.Set("NOTIFY_SOCKET", null);
        NativeEnvironment.Set("WATCHDOG_USEC", null);
        NativeEnvironment.Set("WATCHDOG_PID", null);
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Ready_NotifySocketSet_SendsReady()
    {
        Assert.True(SystemdNotifier.Ready());

        Assert.Equal("READY=1", Received());
    }

    [Fact]
    public void Notifications_NotifySocketSet_SendExactDatagramsInOrder()
    {
        Assert.True(SystemdNotifier.Status("migrating vm1\n50%"));
        Assert.True(SystemdNotifier.Watchdog());
        Assert.True(SystemdNotifier.ExtendTimeout(TimeSpan.FromSeconds(90)));
        Assert.True(SystemdNotifier.Stopping());

        Assert.Equal("STATUS=migrating vm1 50%", Received());
        Assert.Equal("WATCHDOG=1", Received());
        Assert.Equal("EXTEND_TIMEOUT_USEC=90000000", Received());
        Assert.Equal("STOPPING=1", Received());
    }

    [Fact]
    public void Status_PlainText_SendsStatusLine()
    {
        Assert.True(SystemdNotifier.Status("x"));

        Assert.Equal("STATUS=x", Received());
    }

    [Fact]
    public void IsUnderSystemd_NotifySocketUnset_FalseAndNothingSent()
    {
        Assert.True(SystemdNotifier.IsUnderSystemd);

        NativeEnvironment.Set("NOTIFY_SOCKET", null);

        Assert.False(SystemdNotifier.IsUnderSystemd);
        Assert.False(SystemdNotifier.Ready());
        Assert.True(_listener.IsQuiet(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void WatchdogInterval_WatchdogUsecForThisProcess_ReturnsInterval()
    {
        Assert.Null(SystemdNotifier.WatchdogInterval());

        NativeEnvironment.Set("WATCHDOG_USEC", "3000000");
        NativeEnvironment.Set("WATCHDOG_PID", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(TimeSpan.FromSeconds(3), SystemdNotifier.WatchdogInterval());
    }

    [Fact]
    public void WatchdogInterval_WatchdogPidOfAnotherProcess_ReturnsNull()
    {
        NativeEnvironment.Set("WATCHDOG_USEC", "3000000");
        NativeEnvironment.Set("WATCHDOG_PID", "1");

        Assert.Null(SystemdNotifier.WatchdogInterval());
    }

    private string Received() => Encoding.UTF8.GetString(_listener.Receive());
}
