using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Readers of the reply bodies the contract's methods return.</summary>
public static class Replies
{
    public static readonly MessageValueReader<bool> None = static (_, _) => true;

    public static readonly MessageValueReader<string> ObjectPath = static (m, _) => m.GetBodyReader().ReadObjectPathAsString();

    public static readonly MessageValueReader<string[]> ObjectPaths =
        static (m, _) => m.GetBodyReader().ReadArrayOfObjectPath().Select(p => p.ToString()).ToArray();
}
