using System.Diagnostics;
using System.Text;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.Interop.Tests.Qmp;

/// <summary>
/// A real qemu-system-x86_64 with a QMP socket in its own temp dir. Disposing kills it whatever
/// state the test left it in, so no test leaves a QEMU behind.
/// </summary>
internal sealed class QemuProcess : IAsyncDisposable
{
    // LOCALMIGRATE_TEST_QEMU points the tests at another build (e.g. one unpacked with dpkg-deb -x).
    private static readonly string Binary =
        Environment.GetEnvironmentVariable("LOCALMIGRATE_TEST_QEMU") ?? "qemu-system-x86_64";

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly string _dir;

    private QemuProcess(string[] machineArgs)
    {
        _dir = Directory.CreateTempSubdirectory("lm-qemu-").FullName;
        QmpSocketPath = Path.Combine(_dir, "qmp.sock");
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in machineArgs.Concat(
            ["-nodefaults", "-display", "none", "-no-user-config", "-qmp", $"unix:{QmpSocketPath},server=on,wait=off"]))
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Binary}");
        _process.ErrorDataReceived += (_, e) => { lock (_stderr) { _stderr.AppendLine(e.Data); } };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string QmpSocketPath { get; }

    public Process Process => _process;

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>No machine at all: the cheapest QEMU that still speaks QMP.</summary>
    public static QemuProcess StartMachineNone() => new(["-machine", "none"]);

    /// <summary>A q35 VM, paused before its first instruction (-S), under TCG (KVM hangs on these hosts).</summary>
    public static QemuProcess StartQ35Paused() => new(["-machine", "q35", "-accel", "tcg", "-m", "64", "-S"]);

    /// <summary>Connects, waiting for QEMU to create its socket.</summary>
    public Task<QmpClient> ConnectAsync() =>
        QmpClient.ConnectAsync(QmpSocketPath, new QmpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) });

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }
}
