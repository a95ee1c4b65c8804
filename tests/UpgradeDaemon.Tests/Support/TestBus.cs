using System.Diagnostics;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// A private dbus-daemon for one test class, with the project's own policy (systemd/org.localmigrate1.conf)
/// included after a permissive default: what the policy file denies is denied here too.
/// </summary>
internal sealed class TestBus : IDisposable
{
    private readonly Process _daemon;

    public TestBus(string directory)
    {
        Directory.CreateDirectory(directory);
        // Other users (the non-root test user) must reach the socket.
        File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("755", 8));
        var socket = Path.Combine(directory, "bus.sock");
        var config = Path.Combine(directory, "bus.conf");
        File.WriteAllText(config, $"""
            <busconfig>
              <type>session</type>
              <listen>unix:path={socket}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
              <include>{Path.Combine(RepositoryRoot.Path, "systemd", "org.localmigrate1.conf")}</include>
            </busconfig>
            """);
        var start = new ProcessStartInfo("dbus-daemon") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--config-file={config}", "--nofork", "--print-address=1" })
            start.ArgumentList.Add(a);
        _daemon = Process.Start(start)!;
        _daemon.ErrorDataReceived += (_, _) => { };
        _daemon.BeginErrorReadLine();
        Address = _daemon.StandardOutput.ReadLine() ?? throw new InvalidOperationException("dbus-daemon printed no address");
    }

    public string Address { get; }

    public void Dispose()
    {
        try
        {
            _daemon.Kill();
            _daemon.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _daemon.Dispose();
    }
}
