using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract;

/// <summary>One entry of <see cref="DomainContract.ListSnapshots"/>, the struct <c>(stbsasas)</c>, written and read here only.</summary>
/// <param name="Created">Unix seconds.</param>
/// <param name="Status">One of <see cref="BusContract.SnapshotStatuses"/>.</param>
public sealed record SnapshotEntry(string Name, ulong Created, bool VmState, string Status, IReadOnlyList<string> Disks, IReadOnlyList<string> MissingFrom)
{
    public const string Signature = "a(stbsasas)";

    public static void WriteArray(ref MessageWriter writer, IEnumerable<SnapshotEntry> entries)
    {
        var start = writer.WriteArrayStart(DBusType.Struct);
        foreach (var entry in entries)
        {
            writer.WriteStructureStart();
            writer.WriteString(entry.Name);
            writer.WriteUInt64(entry.Created);
            writer.WriteBool(entry.VmState);
            writer.WriteString(entry.Status);
            writer.WriteArray(entry.Disks.ToArray());
            writer.WriteArray(entry.MissingFrom.ToArray());
        }
        writer.WriteArrayEnd(start);
    }

    public static SnapshotEntry[] ReadArray(ref Reader reader)
    {
        var entries = new List<SnapshotEntry>();
        var end = reader.ReadArrayStart(DBusType.Struct);
        while (reader.HasNext(end))
        {
            reader.AlignStruct();
            entries.Add(new SnapshotEntry(reader.ReadString(), reader.ReadUInt64(), reader.ReadBool(), reader.ReadString(),
                reader.ReadArrayOfString(), reader.ReadArrayOfString()));
        }
        return entries.ToArray();
    }
}
