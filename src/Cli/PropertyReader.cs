using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.Cli;

/// <summary>Reads GetAll's answer by the contract's properties; a missing or mistyped one means a daemon of another version.</summary>
internal readonly struct PropertyReader(IReadOnlyDictionary<string, VariantValue> properties)
{
    public string String(BusProperty property) => Get(property, VariantValueType.String).GetString();

    public string ObjectPath(BusProperty property) => Get(property, VariantValueType.ObjectPath).GetObjectPathAsString();

    public bool Bool(BusProperty property) => Get(property, VariantValueType.Bool).GetBool();

    public uint UInt32(BusProperty property) => Get(property, VariantValueType.UInt32).GetUInt32();

    public ulong UInt64(BusProperty property) => Get(property, VariantValueType.UInt64).GetUInt64();

    public double Double(BusProperty property) => Get(property, VariantValueType.Double).GetDouble();

    public string[] Strings(BusProperty property) => Get(property, VariantValueType.Array).GetArray<string>();

    public Dictionary<string, string> StringMap(BusProperty property) => Get(property, VariantValueType.Dictionary).GetDictionary<string, string>();

    private VariantValue Get(BusProperty property, VariantValueType type) =>
        properties.TryGetValue(property.Name, out var value) && value.Type == type
            ? value
            : throw new CliException(ExitCodes.Failed, $"the daemon sent no {property.Name} of type {property.Signature}: is it a matching version?");
}
