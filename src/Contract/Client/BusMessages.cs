using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>
/// Builds the messages Tmds.DBus.Protocol sends: header, then the body <see cref="ArgumentWriter"/> writes. One place for
/// the writer's rent-and-return, for the daemon's calls and signals and the client's calls alike.
/// </summary>
public static class BusMessages
{
    public static MessageBuffer MethodCall(DBusConnection bus, string destination, string path, string interfaceName, string member,
        string signature, ArgumentWriter? body)
    {
        var writer = bus.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(destination, path, interfaceName, member, signature.Length == 0 ? null : signature, MessageFlags.None);
            body?.Invoke(ref writer);
            return writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
    }

    public static MessageBuffer Signal(DBusConnection bus, string path, string interfaceName, string member, string signature, ArgumentWriter body)
    {
        var writer = bus.GetMessageWriter();
        try
        {
            writer.WriteSignalHeader(null, path, interfaceName, member, signature);
            body(ref writer);
            return writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
    }
}
