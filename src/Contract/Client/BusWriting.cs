using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Writers for the container types of the contract that MessageWriter has no one-call method for.</summary>
public static class BusWriting
{
    /// <summary>a{sv}</summary>
    public static void WriteVariantDictionary(ref MessageWriter writer, IReadOnlyDictionary<string, VariantValue> values)
    {
        var start = writer.WriteDictionaryStart();
        foreach (var (key, value) in values)
        {
            writer.WriteDictionaryEntryStart();
            writer.WriteString(key);
            writer.WriteVariant(value);
        }
        writer.WriteDictionaryEnd(start);
    }
}
