using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class BusAddressTests
{
    [Fact]
    public void Parse_SystemAndSession_ReturnWellKnownBuses()
    {
        Assert.Same(BusAddress.System, BusAddress.Parse("system"));
        Assert.Same(BusAddress.Session, BusAddress.Parse("session"));
    }

    [Fact]
    public void Parse_Address_KeepsItVerbatim()
    {
        var address = BusAddress.Parse("unix:path=/tmp/x/bus,guid=abc");

        Assert.Equal("unix:path=/tmp/x/bus,guid=abc", address.Resolve());
        Assert.Equal("address", address.Kind);
    }

    [Fact]
    public void Parse_Garbage_Throws()
    {
        Assert.Throws<ArgumentException>(() => BusAddress.Parse("bogus"));
    }

    [Fact]
    public void Resolve_System_DefaultsToSystemBusSocket()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS");

        Assert.Equal(string.IsNullOrEmpty(fromEnvironment) ? "unix:path=/run/dbus/system_bus_socket" : fromEnvironment, BusAddress.System.Resolve());
    }
}
