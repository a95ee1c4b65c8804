using System.Net.Sockets;
using System.Text;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Hosting;

/// <summary>The daemon as systemd sees it: the unit verifies, and sd_notify reaches a NOTIFY_SOCKET.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class SystemdIntegrationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Unit_SystemdAnalyzeVerify_ReportsNothing()
    {
        var dir = Directory.CreateTempSubdirectory("lm-unit-");
        try
        {
            var unit = Path.Combine(dir.FullName, "localmigrated.service");
            // The packaged path does not exist on a build machine; the built apphost stands in for it.
            await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "systemd", "localmigrated.service")))
                .Replace("/usr/lib/localmigrate/localmigrated", Path.Combine(AppContext.BaseDirectory, "localmigrated")));
            var result = await ProcessRunner.RunAsync("systemd-analyze", ["verify", "--man=no", unit]);
            var text = result.Stdout + result.Stderr;
            output.WriteLine(text);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal("", text.Trim());
            var content = await File.ReadAllTextAsync(unit);
            Assert.Contains("Type=notify", content);
            Assert.Contains("KillMode=process", content);
            Assert.Contains("WatchdogSec=", content);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Daemon_UnderANotifySocket_SendsExtendReadyStatusWatchdogAndStopping()
    {
        await using var daemon = new DaemonProcess(output);
        var socketPath = Path.Combine(daemon.Root, "notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        var messages = new List<string>();
        var receiver = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (true)
            {
                int n;
                try
                {
                    n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                }
                catch (Exception e) when (e is ObjectDisposedException or SocketException)
                {
                    return;
                }
                lock (messages)
                    messages.AddRange(Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
        });

        // Microsoft.Extensions.Hosting.Systemd recognises systemd by its parent process's name (/proc/PPID/comm), as
        // the unit starts the daemon directly; no systemd runs here, so a parent named systemd stands in for it.
        var systemd = Path.Combine(daemon.Root, "systemd");
        await File.WriteAllTextAsync(systemd, """
            #!/bin/sh
            "$@" &
            child=$!
            trap 'kill -TERM $child' TERM
            wait $child
            wait $child
            """);
        File.SetUnixFileMode(systemd, (UnixFileMode)Convert.ToInt32("755", 8));
        await daemon.StartAsync(new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath, ["WATCHDOG_USEC"] = "400000" }, parent: systemd);
        await daemon.BootGuestAsync("notified");
        await Task.Delay(1000);
        Assert.Equal(0, await daemon.TerminateAsync());
        await Task.Delay(200);
        socket.Close();
        await receiver;

        lock (messages)
        {
            output.WriteLine(string.Join(" | ", messages));
            var ready = messages.IndexOf("READY=1");
            Assert.True(ready >= 0, "no READY=1");
            Assert.True(messages.FindIndex(m => m.StartsWith("EXTEND_TIMEOUT_USEC=", StringComparison.Ordinal)) is >= 0 and var extend && extend < ready);
            Assert.Contains(messages, m => m.StartsWith("STATUS=", StringComparison.Ordinal) && m.Contains("1 of 1 VMs running"));
            Assert.True(messages.Count(m => m == "WATCHDOG=1") >= 2, "watchdog not pinged");
            Assert.True(messages.IndexOf("STOPPING=1") > ready, "no STOPPING=1 after READY=1");
        }
        // SIGTERM stopped the daemon, not the VM.
        Assert.Single(daemon.QemuProcesses());
    }
}
