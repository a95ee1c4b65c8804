using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Tests.Support;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

/// <summary>
/// A raw qemu-system-x86_64 (the installed 7.2, pc-q35-7.2, TCG) driven over QMP, for migrating between two QEMUs
/// without a daemon: guest-less and paused (-S) for TLS proofs, or the test guest writing its console to a shared log.
/// Disposing kills it whatever state the test left it in.
/// </summary>
internal sealed class MigrationQemu : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr;

    private MigrationQemu(Process process, StringBuilder stderr, QemuMonitor monitor)
    {
        _process = process;
        _stderr = stderr;
        Monitor = monitor;
    }

    public QemuMonitor Monitor { get; }

    public bool HasExited => _process.HasExited;

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <param name="directory">Where the QMP socket goes.</param>
    /// <param name="incoming">Started with <c>-incoming defer</c>.</param>
    /// <param name="consoleLog">Boots the test guest, its serial console appended to this file; null: no guest, paused (-S).</param>
    public static async Task<MigrationQemu> StartAsync(string directory, string name, bool incoming, int memoryMiB = 64, string? consoleLog = null,
        int patternMiB = 32)
    {
        var qmp = Path.Combine(directory, name + ".qmp");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("LOCALMIGRATE_TEST_QEMU") ?? "qemu-system-x86_64")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true,
        };
        var args = new List<string>
        {
            "-machine", "pc-q35-7.2", "-accel", TestGuest.Accel, "-m", memoryMiB.ToString(), "-nodefaults", "-display", "none",
            "-no-user-config", "-qmp", $"unix:{qmp},server=on,wait=off",
        };
        if (consoleLog is null)
            args.Add("-S");
        else
            args.AddRange(["-kernel", TestGuest.Kernel, "-initrd", TestGuest.Initrd, "-append", $"console=ttyS0 quiet lm.pattern_mib={patternMiB}",
                "-chardev", $"file,id=console,path={consoleLog},append=on", "-serial", "chardev:console"]);
        if (incoming)
            args.AddRange(["-incoming", "defer"]);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            var client = await QmpClient.ConnectAsync(qmp, new QmpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(30), CommandTimeout = TimeSpan.FromSeconds(30) });
            return new MigrationQemu(process, stderr, new QemuMonitor(client));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>A port nobody listens on right now (QEMU's migrate-incoming needs a number).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Polls query-migrate until the migration ends (completed, failed, cancelled); the process dying counts as an end too.</summary>
    public async Task<MigrationInfo> WaitForMigrationEndAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var info = await Monitor.QueryMigrateAsync();
            if (info.Status.IsTerminal())
                return info;
            Assert.True(DateTime.UtcNow < deadline, $"migration still {info.Status} after {timeout.TotalSeconds:0} s; QEMU said: {Stderr}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Monitor.Client.DisposeAsync();
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
    }
}
