using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Appends managed values to a message by signature with the typed calls
/// (sd_bus_message_append_basic(3), sd_bus_message_open_container(3)). Numbers are converted with range
/// checks, so an int may be sent as <c>t</c>; <c>o</c> accepts a <see cref="BusObjectPath"/> or a string;
/// arrays accept any IEnumerable; dictionaries any IDictionary; structs an object?[] or a tuple;
/// <c>v</c> a <see cref="BusVariant"/> or a value whose signature is inferred. Bus thread only.
/// </summary>
internal static unsafe class MessageWriter
{
    public static void WriteAll(IntPtr message, string signature, IReadOnlyList<object?> values)
    {
        var types = BusSignatureParser.Split(signature);
        if (types.Count != values.Count)
        {
            throw new ArgumentException($"signature '{signature}' needs {types.Count} values, got {values.Count}");
        }

        for (var i = 0; i < types.Count; i++)
        {
            Write(message, types[i], values[i]);
        }
    }

    public static void Write(IntPtr message, string type, object? value)
    {
        if (value is null)
        {
            throw new ArgumentException($"null cannot be sent as '{type}': D-Bus has no null");
        }

        switch (type[0])
        {
            case 'a':
                WriteArray(message, type, value);
                break;
            case '(':
                WriteStruct(message, type, value);
                break;
            case 'v':
                var (innerSignature, innerValue) = value is BusVariant variant
                    ? (variant.Signature, variant.Value)
                    : (SignatureInference.For(value), value);
                if (BusSignatureParser.Split(innerSignature).Count != 1)
                {
                    throw new ArgumentException($"variant signature '{innerSignature}' must be one complete type");
                }

                Open(message, 'v', innerSignature);
                Write(message, innerSignature, innerValue);
                Close(message);
                break;
            default:
                WriteBasic(message, type[0], value);
                break;
        }
    }

    private static void WriteBasic(IntPtr message, char type, object value)
    {
        var inv = CultureInfo.InvariantCulture;
        ulong buffer = 0;
        void* p = &buffer;
        switch (type)
        {
            case 'y': *(byte*)p = Convert.ToByte(value, inv); break;
            case 'b': *(int*)p = value is bool b ? (b ? 1 : 0) : throw new ArgumentException($"'b' needs a bool, got {value.GetType()}"); break;
            case 'n': *(short*)p = Convert.ToInt16(value, inv); break;
            case 'q': *(ushort*)p = Convert.ToUInt16(value, inv); break;
            case 'i': *(int*)p = Convert.ToInt32(value, inv); break;
            case 'h': *(int*)p = Convert.ToInt32(value, inv); break; // sd-bus dups the fd
            case 'u': *(uint*)p = Convert.ToUInt32(value, inv); break;
            case 'x': *(long*)p = Convert.ToInt64(value, inv); break;
            case 't': buffer = Convert.ToUInt64(value, inv); break;
            case 'd': *(double*)p = Convert.ToDouble(value, inv); break;
            case 's' or 'o' or 'g':
                WriteString(message, type, value);
                return;
            default:
                throw new ArgumentException($"unsupported D-Bus type '{type}'");
        }

        Errno.Check(SdBusMessage.AppendBasic(message, (byte)type, p), $"append '{type}'");
    }

    private static void WriteString(IntPtr message, char type, object value)
    {
        var text = value switch
        {
            string s => s,
            BusObjectPath path when type == 'o' => path.Value,
            _ => throw new ArgumentException($"'{type}' needs a string, got {value.GetType()}"),
        };
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("D-Bus strings cannot contain NUL");
        }

        // String types take the char* itself, not a pointer to it (sd_bus_message_append_basic(3)).
        var max = Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
        var bytes = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(text, bytes);
        bytes[length] = 0;
        fixed (byte* ptr = bytes)
        {
            Errno.Check(SdBusMessage.AppendBasic(message, (byte)type, ptr), $"append '{type}' \"{text}\"");
        }
    }

    private static void WriteArray(IntPtr message, string type, object value)
    {
        var element = type[1..];
        if (element == "y" && value is byte[] bytes)
        {
            fixed (byte* ptr = bytes)
            {
                Errno.Check(SdBusMessage.AppendArray(message, (byte)'y', ptr, (nuint)bytes.Length), "sd_bus_message_append_array");
            }

            return;
        }

        Open(message, 'a', element);
        if (element[0] == '{')
        {
            var inner = element[1..^1];
            var keyType = inner[..1];
            var valueType = inner[1..];
            foreach (var (key, entryValue) in Entries(value, type))
            {
                Open(message, 'e', inner);
                Write(message, keyType, key);
                Write(message, valueType, entryValue);
                Close(message);
            }
        }
        else
        {
            if (value is string || value is not IEnumerable items)
            {
                throw new ArgumentException($"'{type}' needs a collection, got {value.GetType()}");
            }

            foreach (var item in items)
            {
                Write(message, element, item);
            }
        }

        Close(message);
    }

    private static IEnumerable<(object Key, object? Value)> Entries(object value, string type)
    {
        if (value is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                yield return (entry.Key, entry.Value);
            }

            yield break;
        }

        if (value is IEnumerable<KeyValuePair<string, object>> pairs)
        {
            foreach (var pair in pairs)
            {
                yield return (pair.Key, pair.Value);
            }

            yield break;
        }

        throw new ArgumentException($"'{type}' needs a dictionary, got {value.GetType()}");
    }

    private static void WriteStruct(IntPtr message, string type, object value)
    {
        var inner = type[1..^1];
        var fieldTypes = BusSignatureParser.Split(inner);
        var fields = value switch
        {
            object?[] array => array,
            ITuple tuple => Enumerable.Range(0, tuple.Length).Select(i => tuple[i]).ToArray(),
            _ => throw new ArgumentException($"'{type}' needs an object?[] or a tuple, got {value.GetType()}"),
        };
        if (fields.Length != fieldTypes.Count)
        {
            throw new ArgumentException($"'{type}' needs {fieldTypes.Count} fields, got {fields.Length}");
        }

        Open(message, 'r', inner);
        for (var i = 0; i < fields.Length; i++)
        {
            Write(message, fieldTypes[i], fields[i]);
        }

        Close(message);
    }

    private static void Open(IntPtr message, char type, string contents) =>
        Errno.Check(SdBusMessage.OpenContainer(message, (byte)type, contents), $"open container '{type}{contents}'");

    private static void Close(IntPtr message) =>
        Errno.Check(SdBusMessage.CloseContainer(message), "sd_bus_message_close_container");
}
