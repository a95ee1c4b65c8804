using System.Text.Json;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// Reads <c>localmigrated.json</c> into <see cref="DaemonOptions"/>, then applies command-line overrides. Every bad
/// or unknown field is reported at once by name; a missing default file simply means defaults.
/// </summary>
public static class DaemonConfigLoader
{
    private static readonly HashSet<string> Fields =
    [
        "stateDirectory", "runtimeDirectory", "sharedMemoryDirectory", "qemuBinary", "defaultAccel",
        "maxParallelMigrations", "stopTimeoutSeconds", "allowedUids", "allowedGroups", "scopeBus", "remote",
    ];

    private static readonly HashSet<string> RemoteFields =
    [
        "tlsPort", "tcpPort", "listenAddress", "allowInsecureTcp", "pkiDirectory", "allowedClientDns", "sshBridgeCommand", "sshCommand", "incomingLeaseSeconds",
    ];

    /// <exception cref="ArgumentException">Names every bad field of the file.</exception>
    public static DaemonOptions Load(DaemonArguments arguments)
    {
        var options = new DaemonOptions();
        if (File.Exists(arguments.ConfigFile))
            options = Parse(File.ReadAllText(arguments.ConfigFile), arguments.ConfigFile);
        else if (arguments.ConfigFileGiven)
            throw new ArgumentException($"--config: {arguments.ConfigFile} does not exist");
        return options with
        {
            StateDirectory = arguments.StateDirectory ?? options.StateDirectory,
            RuntimeDirectory = arguments.RuntimeDirectory ?? options.RuntimeDirectory,
        };
    }

    public static DaemonOptions Parse(string json, string source)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"{source}: must be a JSON object");
        var errors = new List<string>();
        var options = new DaemonOptions();
        foreach (var p in root.EnumerateObject())
        {
            if (!Fields.Contains(p.Name))
            {
                errors.Add($"{p.Name}: unknown field");
                continue;
            }
            try
            {
                options = p.Name switch
                {
                    "stateDirectory" => options with { StateDirectory = AbsolutePath(p.Value) },
                    "runtimeDirectory" => options with { RuntimeDirectory = AbsolutePath(p.Value) },
                    "sharedMemoryDirectory" => options with { SharedMemoryDirectory = AbsolutePath(p.Value) },
                    "qemuBinary" => options with { QemuBinary = AbsolutePath(p.Value) },
                    "defaultAccel" => options with { DefaultAccel = p.Value.GetString() is "kvm" or "tcg" ? p.Value.GetString()! : throw new FormatException("must be kvm or tcg") },
                    "maxParallelMigrations" => options with { MaxParallelMigrations = p.Value.GetInt32() is >= 1 and <= 64 and var n ? n : throw new FormatException("must be 1 to 64") },
                    "stopTimeoutSeconds" => options with { StopTimeout = TimeSpan.FromSeconds(p.Value.GetInt32() is >= 1 and <= 3600 and var s ? s : throw new FormatException("must be 1 to 3600")) },
                    "allowedUids" => options with { AllowedUids = p.Value.EnumerateArray().Select(e => e.GetUInt32()).ToList() },
                    "scopeBus" => options with { ScopeBus = p.Value.GetString() ?? throw new FormatException("must be \"off\" or a D-Bus address") },
                    "allowedGroups" => options with { AllowedGroups = p.Value.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException("must be group names")).ToList() },
                    "remote" => options with { Remote = ParseRemote(p.Value, errors) },
                    _ => options,
                };
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
            {
                errors.Add($"{p.Name}: {e.Message}");
            }
        }
        if (errors.Count > 0)
            throw new ArgumentException($"{source}: {string.Join("; ", errors)}");
        return options;
    }

    /// <summary>The <c>remote</c> object; its bad fields join <paramref name="errors"/> as <c>remote.FIELD</c>.</summary>
    private static RemoteOptions ParseRemote(JsonElement value, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new FormatException("must be a JSON object");
        var remote = new RemoteOptions();
        foreach (var p in value.EnumerateObject())
        {
            if (!RemoteFields.Contains(p.Name))
            {
                errors.Add($"remote.{p.Name}: unknown field");
                continue;
            }
            try
            {
                remote = p.Name switch
                {
                    "tlsPort" => remote with { TlsPort = Port(p.Value) },
                    "tcpPort" => remote with { TcpPort = Port(p.Value) },
                    "listenAddress" => remote with { ListenAddress = System.Net.IPAddress.TryParse(p.Value.GetString(), out _) ? p.Value.GetString()! : throw new FormatException("must be an IP address") },
                    "allowInsecureTcp" => remote with { AllowInsecureTcp = p.Value.GetBoolean() },
                    "pkiDirectory" => remote with { PkiDirectory = AbsolutePath(p.Value) },
                    "allowedClientDns" => remote with { AllowedClientDns = p.Value.EnumerateArray().Select(e => e.GetString() is { } dn && Remote.Transport.DistinguishedName.Parse(dn) is not null ? dn : throw new FormatException("must be distinguished names")).ToList() },
                    "sshBridgeCommand" => remote with { SshBridgeCommand = NonEmpty(p.Value) },
                    "sshCommand" => remote with { SshCommand = NonEmpty(p.Value) },
                    "incomingLeaseSeconds" => remote with { IncomingLease = TimeSpan.FromSeconds(p.Value.GetInt32() is >= 15 and <= 3600 and var l ? l : throw new FormatException("must be 15 to 3600")) },
                    _ => remote,
                };
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
            {
                errors.Add($"remote.{p.Name}: {e.Message}");
            }
        }
        if (remote.TcpPort is not null && !remote.AllowInsecureTcp)
            errors.Add("remote.tcpPort: a plaintext listener needs remote.allowInsecureTcp: true");
        return remote;
    }

    private static int Port(JsonElement value) =>
        value.GetInt32() is >= 1 and <= 65535 and var port ? port : throw new FormatException("must be a port number, 1 to 65535");

    private static string NonEmpty(JsonElement value) =>
        value.GetString() is { Length: > 0 } s ? s : throw new FormatException("must be a non-empty string");

    private static string AbsolutePath(JsonElement value)
    {
        var path = value.GetString() ?? throw new FormatException("must be a string");
        return Path.IsPathRooted(path) ? path : throw new FormatException($"'{path}' must be an absolute path");
    }
}
