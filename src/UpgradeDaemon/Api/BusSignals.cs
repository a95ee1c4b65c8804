using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// The signals the daemon sends. Tmds.DBus.Protocol has no helper for them: each is built and queued with
/// TrySendMessage, which never blocks (and drops the signal when the connection is gone, as nobody listens then).
/// </summary>
internal static class BusSignals
{
    public static void PropertiesChanged(DBusConnection bus, string path, string interfaceName,
        List<KeyValuePair<string, VariantValue>> changed, List<string> invalidated)
    {
        var writer = bus.GetMessageWriter();
        try
        {
            writer.WriteSignalHeader(null, path, BusContract.PropertiesInterface, "PropertiesChanged", "sa{sv}as");
            writer.WriteString(interfaceName);
            var start = writer.WriteDictionaryStart();
            foreach (var (name, value) in changed)
            {
                writer.WriteDictionaryEntryStart();
                writer.WriteString(name);
                writer.WriteVariant(value);
            }
            writer.WriteDictionaryEnd(start);
            writer.WriteArray(invalidated);
            bus.TrySendMessage(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    public static void InterfacesAdded(DBusConnection bus, ExportedObject exported)
    {
        var writer = bus.GetMessageWriter();
        try
        {
            writer.WriteSignalHeader(null, BusContract.ManagerPath, BusContract.ObjectManagerInterface, "InterfacesAdded", "oa{sa{sv}}");
            writer.WriteObjectPath(exported.Path);
            BusObjectTree.WriteInterfaces(ref writer, exported);
            bus.TrySendMessage(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    public static void InterfacesRemoved(DBusConnection bus, ExportedObject exported)
    {
        var writer = bus.GetMessageWriter();
        try
        {
            writer.WriteSignalHeader(null, BusContract.ManagerPath, BusContract.ObjectManagerInterface, "InterfacesRemoved", "oas");
            writer.WriteObjectPath(exported.Path);
            writer.WriteArray(new[] { exported.Interface.Contract.Name });
            bus.TrySendMessage(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }
}
