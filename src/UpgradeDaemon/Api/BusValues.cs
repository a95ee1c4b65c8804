using System.Globalization;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Reads and writes the D-Bus types the contract uses (s o b u t i x d as ao a{sv}) as CLR values: a handler
/// works with plain strings, numbers and dictionaries, and the signature of each call comes from the contract.
/// </summary>
internal static class BusValues
{
    /// <exception cref="NotSupportedException">A signature outside the contract's types (a bug in the contract, caught by tests).</exception>
    public static object?[] ReadArguments(Message message, string signature)
    {
        var reader = message.GetBodyReader();
        var types = SplitSignature(signature);
        var values = new object?[types.Count];
        for (var i = 0; i < types.Count; i++)
        {
            values[i] = types[i] switch
            {
                "s" => reader.ReadString(),
                "o" => reader.ReadObjectPathAsString(),
                "b" => reader.ReadBool(),
                "u" => reader.ReadUInt32(),
                "t" => reader.ReadUInt64(),
                "i" => reader.ReadInt32(),
                "x" => reader.ReadInt64(),
                "d" => reader.ReadDouble(),
                "as" => reader.ReadArrayOfString(),
                "ao" => reader.ReadArrayOfObjectPath().Select(p => p.ToString()).ToArray(),
                "a{sv}" => reader.ReadDictionaryOfStringToVariantValue().ToDictionary(kv => kv.Key, kv => ToClr(kv.Value), StringComparer.Ordinal),
                var other => throw new NotSupportedException($"signature '{other}' is not used by the contract"),
            };
        }
        return values;
    }

    public static void WriteValues(ref MessageWriter writer, string signature, object?[] values)
    {
        var types = SplitSignature(signature);
        if (types.Count != values.Length)
            throw new InvalidOperationException($"reply of signature '{signature}' needs {types.Count} values, the handler gave {values.Length}");
        for (var i = 0; i < types.Count; i++)
            writer.WriteVariantValueBody(types[i], values[i]);
    }

    private static void WriteVariantValueBody(this ref MessageWriter writer, string type, object? value)
    {
        switch (type, value)
        {
            case ("s", string s): writer.WriteString(s); break;
            case ("o", string path): writer.WriteObjectPath(path); break;
            case ("b", bool b): writer.WriteBool(b); break;
            case ("u", uint u): writer.WriteUInt32(u); break;
            case ("t", ulong t): writer.WriteUInt64(t); break;
            case ("d", double d): writer.WriteDouble(d); break;
            case ("as", IEnumerable<string> list): writer.WriteArray(list); break;
            case ("ao", IEnumerable<string> paths): writer.WriteArray(paths.Select(p => new ObjectPath(p))); break;
            // A container the contract writes itself (SnapshotEntry's struct array): the handler passes its writer.
            case (_, LocalMigrate.Contract.Client.ArgumentWriter write): write(ref writer); break;
            default: throw new InvalidOperationException($"cannot write {value?.GetType().Name ?? "null"} as '{type}'");
        }
    }

    /// <summary>A variant as the CLR value of its type; containers other than string arrays stay a VariantValue.</summary>
    public static object ToClr(VariantValue value) => value.Type switch
    {
        VariantValueType.String => value.GetString(),
        VariantValueType.ObjectPath => value.GetObjectPathAsString(),
        VariantValueType.Bool => value.GetBool(),
        VariantValueType.Byte => value.GetByte(),
        VariantValueType.Int16 => value.GetInt16(),
        VariantValueType.UInt16 => value.GetUInt16(),
        VariantValueType.Int32 => value.GetInt32(),
        VariantValueType.UInt32 => value.GetUInt32(),
        VariantValueType.Int64 => value.GetInt64(),
        VariantValueType.UInt64 => value.GetUInt64(),
        VariantValueType.Double => value.GetDouble(),
        VariantValueType.Array when value.ItemType == VariantValueType.String => value.GetArray<string>(),
        VariantValueType.Variant => ToClr(value.GetVariantValue()),
        _ => value,
    };

    /// <summary>An option value as an operator reads it in an error: the value and its D-Bus type, never a .NET type name.</summary>
    public static string Describe(object? value) => value switch
    {
        string s => $"'{s}' (type s)",
        bool b => $"{(b ? "true" : "false")} (type b)",
        byte n => $"{n} (type y)",
        short n => $"{n} (type n)",
        ushort n => $"{n} (type q)",
        int n => $"{n} (type i)",
        uint n => $"{n} (type u)",
        long n => $"{n} (type x)",
        ulong n => $"{n} (type t)",
        double d => $"{d.ToString(CultureInfo.InvariantCulture)} (type d)",
        string[] list => $"[{string.Join(", ", list)}] (type as)",
        VariantValue v => $"{v.ToString(includeTypeSuffix: false)} (type {TypeCode(v)})",
        null => "nothing",
        _ => $"'{value}'",
    };

    private static string TypeCode(VariantValue value) => value.Type switch
    {
        VariantValueType.Array => "a" + ItemCode(value.ItemType),
        VariantValueType.Dictionary => "a{" + ItemCode(value.KeyType) + ItemCode(value.ValueType) + "}",
        VariantValueType.Struct => "(...)",
        var other => ItemCode(other),
    };

    private static string ItemCode(VariantValueType type) => type switch
    {
        VariantValueType.Byte => "y", VariantValueType.Bool => "b", VariantValueType.Int16 => "n", VariantValueType.UInt16 => "q",
        VariantValueType.Int32 => "i", VariantValueType.UInt32 => "u", VariantValueType.Int64 => "x", VariantValueType.UInt64 => "t",
        VariantValueType.Double => "d", VariantValueType.String => "s", VariantValueType.ObjectPath => "o", VariantValueType.Signature => "g",
        VariantValueType.Variant => "v", VariantValueType.UnixFd => "h", VariantValueType.Array => "a?", VariantValueType.Dictionary => "a{?}",
        _ => "?",
    };

    /// <summary>Splits a signature into complete types: "sa{sv}" → ["s", "a{sv}"].</summary>
    public static IReadOnlyList<string> SplitSignature(string signature)
    {
        var types = new List<string>();
        var i = 0;
        while (i < signature.Length)
        {
            var start = i;
            i = SkipType(signature, i);
            types.Add(signature[start..i]);
        }
        return types;
    }

    private static int SkipType(string signature, int i)
    {
        switch (signature[i])
        {
            case 'a':
                return SkipType(signature, i + 1);
            case '(' or '{':
                var close = signature[i] == '(' ? ')' : '}';
                i++;
                while (signature[i] != close)
                    i = SkipType(signature, i);
                return i + 1;
            default:
                return i + 1;
        }
    }
}
