using System.Text.Json;
using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>
/// The host's maintenance flag: while on, <c>start</c> and incoming migrations are refused (a host being emptied must
/// not fill up again). Persistent across daemon restarts and host reboots (a kernel update is what it is for), so it is
/// written atomically and durably; an unreadable file counts as on, the safe reading for a host someone was emptying.
/// </summary>
public sealed partial class HostMaintenance
{
    public const string FileName = "maintenance.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly Lock _gate = new();
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger<HostMaintenance> _logger;
    private MaintenanceRecord _current;

    public HostMaintenance(DaemonOptions options, TimeProvider time, ILogger<HostMaintenance> logger)
    {
        _path = Path.Combine(options.StateDirectory, FileName);
        _time = time;
        _logger = logger;
        _current = Read();
    }

    public bool IsOn
    {
        get
        {
            lock (_gate)
                return _current.Maintenance;
        }
    }

    public MaintenanceRecord Current
    {
        get
        {
            lock (_gate)
                return _current;
        }
    }

    /// <summary>Raised after the flag changed (the D-Bus Manager announces its Maintenance property).</summary>
    public event Action? Changed;

    /// <summary>Turns the flag on or off; written before it takes effect. Setting the value it already has changes nothing.</summary>
    /// <exception cref="IOException">The state directory cannot be written; the flag is unchanged.</exception>
    public void Set(bool on, string reason)
    {
        lock (_gate)
        {
            if (_current.Maintenance == on)
                return;
            var record = new MaintenanceRecord(on, _time.GetUtcNow(), reason);
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            AtomicFile.WriteAllBytes(_path, JsonSerializer.SerializeToUtf8Bytes(record, Json), FileDurability.SurvivesHostCrash);
            _current = record;
        }
        LogChanged(on ? "on" : "off", reason);
        Changed?.Invoke();
    }

    /// <exception cref="HostMaintenanceException">The flag is on.</exception>
    public void ThrowIfOn(string refused)
    {
        if (IsOn)
            throw new HostMaintenanceException($"{refused}: host {Environment.MachineName} is in maintenance; run 'localmigrate maintenance off' first");
    }

    private MaintenanceRecord Read()
    {
        try
        {
            return JsonSerializer.Deserialize<MaintenanceRecord>(File.ReadAllBytes(_path), Json)
                   ?? throw new JsonException("empty");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new MaintenanceRecord(false, DateTimeOffset.MinValue, "");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            LogUnreadable(_path, e.Message);
            return new MaintenanceRecord(true, _time.GetUtcNow(), "unreadable " + FileName);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Maintenance {State} ({Reason})")]
    private partial void LogChanged(string state, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path} is unreadable ({Reason}): this host stays in maintenance until 'localmigrate maintenance off'")]
    private partial void LogUnreadable(string path, string reason);
}
