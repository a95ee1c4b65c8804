using LocalMigrate.Contract;
using LocalMigrate.Contract.Client;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// The signals the daemon sends. Tmds.DBus.Protocol has no helper for them: each is built and queued with
/// TrySendMessage, which never blocks (and drops the signal when the connection is gone, as nobody listens then).
/// </summary>
internal static class BusSignals
{
    public static void PropertiesChanged(DBusConnection bus, string path, string interfaceName,
        List<KeyValuePair<string, VariantValue>> changed, List<string> invalidated) =>
        Send(bus, path, BusContract.PropertiesInterface, "PropertiesChanged", "sa{sv}as", (ref MessageWriter writer) =>
        {
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
        });

    public static void InterfacesAdded(DBusConnection bus, ExportedObject exported) =>
        Send(bus, BusContract.ManagerPath, BusContract.ObjectManagerInterface, "InterfacesAdded", "oa{sa{sv}}", (ref MessageWriter writer) =>
        {
            writer.WriteObjectPath(exported.Path);
            BusObjectTree.WriteInterfaces(ref writer, exported);
        });

    public static void InterfacesRemoved(DBusConnection bus, ExportedObject exported) =>
        Send(bus, BusContract.ManagerPath, BusContract.ObjectManagerInterface, "InterfacesRemoved", "oas", (ref MessageWriter writer) =>
        {
            writer.WriteObjectPath(exported.Path);
            writer.WriteArray(new[] { exported.Interface.Contract.Name });
        });

    private static void Send(DBusConnection bus, string path, string interfaceName, string member, string signature, ArgumentWriter body) =>
        bus.TrySendMessage(BusMessages.Signal(bus, path, interfaceName, member, signature, body));
}
