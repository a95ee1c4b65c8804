using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract;

/// <summary>
/// One guest of <see cref="ManagerContract.Evacuate"/>'s plan, the struct <c>(sstas)</c>: domain, destination URI ("" when
/// no destination took it; it stays running here), the RAM it takes there in bytes, and the destinations that refused
/// it, each "uri: reason". Written and read here only.
/// </summary>
public sealed record EvacuationPlanEntry(string Domain, string Destination, ulong Bytes, IReadOnlyList<string> Refusals)
{
    public const string Signature = "a(sstas)";

    public static void WriteArray(ref MessageWriter writer, IEnumerable<EvacuationPlanEntry> entries)
    {
        var start = writer.WriteArrayStart(DBusType.Struct);
        foreach (var entry in entries)
        {
            writer.WriteStructureStart();
            writer.WriteString(entry.Domain);
            writer.WriteString(entry.Destination);
            writer.WriteUInt64(entry.Bytes);
            writer.WriteArray(entry.Refusals.ToArray());
        }
        writer.WriteArrayEnd(start);
    }

    public static EvacuationPlanEntry[] ReadArray(ref Reader reader)
    {
        var entries = new List<EvacuationPlanEntry>();
        var end = reader.ReadArrayStart(DBusType.Struct);
        while (reader.HasNext(end))
        {
            reader.AlignStruct();
            entries.Add(new EvacuationPlanEntry(reader.ReadString(), reader.ReadString(), reader.ReadUInt64(), reader.ReadArrayOfString()));
        }
        return entries.ToArray();
    }
}
