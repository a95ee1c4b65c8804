using System.Diagnostics;
using System.Security;

namespace LocalMigrate.Interop.Tests.Systemd;

/// <summary>
/// A dbus-daemon of its own for a test class, listening on a unix socket in a temp directory.
/// Without a policy file the bus is permissive (anyone may own and call anything). With one, the default
/// policy is the stock system bus one (deny own, deny method calls) and the file is included after it, so the
/// project's real org.localmigrate1.conf decides, as it would on the system bus.
/// </summary>
public sealed class PrivateDbusDaemon : IDisposable
{
    private const string PermissivePolicy = """
          <policy context="default">
            <allow user="*"/>
            <allow own="*"/>
            <allow send_destination="*" eavesdrop="true"/>
            <allow receive_sender="*"/>
          </policy>
        """;

    // Mirrors the default context of /usr/share/dbus-1/system.conf.
    private const string SystemLikePolicy = """
          <policy context="default">
            <allow user="*"/>
            <deny own="*"/>
            <deny send_type="method_call"/>
            <allow send_type="signal"/>
            <allow send_requested_reply="true" send_type="method_return"/>
            <allow send_requested_reply="true" send_type="error"/>
            <allow receive_type="method_call"/>
            <allow receive_type="method_return"/>
            <allow receive_type="error"/>
            <allow receive_type="signal"/>
            <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
            <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
            <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
            <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
            <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
          </policy>
        """;

    private readonly Process _process;
    private readonly Queue<string> _errors = new();
    private readonly Task _drain = Task.CompletedTask;

    public PrivateDbusDaemon()
        : this(null)
    {
    }

    /// <summary>A daemon whose policy is the system bus default plus <paramref name="policyFile"/> (e.g. org.localmigrate1.conf).</summary>
    public static PrivateDbusDaemon WithPolicy(string policyFile) => new(policyFile);

    // xunit class fixtures need exactly one public constructor, hence the factory above.
    private PrivateDbusDaemon(string? extraPolicyFile)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("lm-dbus-").FullName;

        // Other users (the non-root caller tests) must reach the socket inside.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        ConfigFile = Path.Combine(Directory, "bus.conf");
        var include = extraPolicyFile is null ? "" : $"  <include ignore_missing=\"no\">{SecurityElement.Escape(Path.GetFullPath(extraPolicyFile))}</include>\n";
        File.WriteAllText(ConfigFile, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
              "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>custom</type>
              <listen>unix:path={SecurityElement.Escape(Path.Combine(Directory, "bus"))}</listen>
              <auth>EXTERNAL</auth>
            {(extraPolicyFile is null ? PermissivePolicy : SystemLikePolicy)}
            {include}</busconfig>
            """);

        var start = new ProcessStartInfo("dbus-daemon")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--config-file={ConfigFile}");
        start.ArgumentList.Add("--print-address=1");
        start.ArgumentList.Add("--nofork");
        _process = Process.Start(start) ?? throw new InvalidOperationException("dbus-daemon did not start");

        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(10)) || string.IsNullOrEmpty(line.Result))
        {
            var stderr = _process.HasExited ? _process.StandardError.ReadToEnd() : "(still running)";
            Dispose();
            throw new InvalidOperationException($"dbus-daemon printed no address: {stderr}");
        }

        Address = line.Result.Trim();

        // dbus-daemon writes warnings (e.g. "maximum number of pending replies") to stderr with blocking
        // writes: an undrained pipe freezes the whole bus once 64 KiB have piled up.
        _drain = Task.WhenAll(
            _process.StandardOutput.BaseStream.CopyToAsync(Stream.Null),
            DrainErrorsAsync(_process.StandardError));
    }

    /// <summary>The last lines dbus-daemon wrote to stderr, for diagnosing a failing test.</summary>
    public string RecentErrors
    {
        get
        {
            lock (_errors)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    /// <summary>The address dbus-daemon printed, e.g. unix:path=/tmp/lm-dbus-x/bus,guid=….</summary>
    public string Address { get; } = "";

    public string Directory { get; }

    public string ConfigFile { get; }

    public int ProcessId => _process.Id;

    private async Task DrainErrorsAsync(StreamReader stderr)
    {
        while (await stderr.ReadLineAsync() is { } line)
        {
            lock (_errors)
            {
                _errors.Enqueue(line);
                if (_errors.Count > 50)
                {
                    _errors.Dequeue();
                }
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _drain.Wait(TimeSpan.FromSeconds(5));
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
