namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Which bus to connect to. The address string is resolved in managed code and handed to
/// sd_bus_set_address(3), because libsystemd reads getenv(3), which never sees
/// Environment.SetEnvironmentVariable. Address syntax: https://dbus.freedesktop.org/doc/dbus-specification.html#addresses
/// </summary>
public sealed record BusAddress
{
    // sd-bus and dbus-daemon defaults (sd_bus_open_system(3)).
    private const string DefaultSystemAddress = "unix:path=/run/dbus/system_bus_socket";

    private BusAddress(string kind, string? explicitAddress)
    {
        Kind = kind;
        ExplicitAddress = explicitAddress;
    }

    /// <summary>"system", "session" or "address".</summary>
    public string Kind { get; }

    /// <summary>The address given to <see cref="FromString"/>; null for the well-known buses.</summary>
    public string? ExplicitAddress { get; }

    public static BusAddress System { get; } = new("system", null);

    public static BusAddress Session { get; } = new("session", null);

    public static BusAddress FromString(string address)
    {
        if (string.IsNullOrWhiteSpace(address) || !address.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{address}' is not a D-Bus address (expected e.g. unix:path=/run/dbus/system_bus_socket)", nameof(address));
        }

        return new BusAddress("address", address);
    }

    /// <summary>Parses the value of a <c>--bus</c> option: <c>system</c>, <c>session</c> or an address.</summary>
    public static BusAddress Parse(string value) => value switch
    {
        "system" => System,
        "session" or "user" => Session,
        _ => FromString(value),
    };

    /// <summary>The address to connect to, with DBUS_SYSTEM_BUS_ADDRESS / DBUS_SESSION_BUS_ADDRESS honoured.</summary>
    public string Resolve() => Kind switch
    {
        "system" => NonEmpty(Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS")) ?? DefaultSystemAddress,
        "session" => NonEmpty(Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS")) ?? SessionFromRuntimeDir(),
        _ => ExplicitAddress!,
    };

    public override string ToString() => Kind == "address" ? ExplicitAddress! : Kind;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string SessionFromRuntimeDir()
    {
        // sd_bus_open_user(3) falls back to $XDG_RUNTIME_DIR/bus.
        var runtimeDir = NonEmpty(Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"))
            ?? throw new InvalidOperationException("no session bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set");
        return "unix:path=" + Path.Combine(runtimeDir, "bus");
    }
}
