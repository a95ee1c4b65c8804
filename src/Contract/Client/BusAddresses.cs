using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>The <c>--bus</c> argument of both commands: <c>system</c>, <c>session</c> or a D-Bus address.</summary>
public static class BusAddresses
{
    /// <exception cref="ArgumentException">Neither a bus name nor an address (transport:key=value,...).</exception>
    public static string Resolve(string bus) => bus switch
    {
        "system" => DBusAddress.System ?? "unix:path=/run/dbus/system_bus_socket",
        "session" => DBusAddress.Session ?? throw new ArgumentException("the session bus has no address (DBUS_SESSION_BUS_ADDRESS is not set)"),
        _ when IsAddress(bus) => bus,
        _ => throw new ArgumentException($"'{bus}' is not a D-Bus address (expected system, session or e.g. unix:path=/run/dbus/system_bus_socket)"),
    };

    private static bool IsAddress(string bus)
    {
        var colon = bus.IndexOf(':');
        return colon > 0 && bus.AsSpan(colon + 1).Contains('=');
    }
}
