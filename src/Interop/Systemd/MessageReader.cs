using System.Runtime.InteropServices;
using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Reads a message body into managed values, driven by sd_bus_message_peek_type(3), so the message's own
/// signature decides. For method calls sd-bus has already checked it against the vtable's in-signature.
/// Mapping: see <see cref="BusMethodCall"/>. Bus thread only.
/// </summary>
internal static unsafe class MessageReader
{
    public static object[] ReadAll(IntPtr message)
    {
        var values = new List<object>();
        while (Peek(message, out var type, out var contents))
        {
            values.Add(ReadValue(message, type, contents));
        }

        return values.ToArray();
    }

    private static bool Peek(IntPtr message, out byte type, out IntPtr contents) =>
        Errno.Check(SdBusMessage.PeekType(message, out type, out contents), "sd_bus_message_peek_type") > 0;

    private static object ReadValue(IntPtr message, byte type, IntPtr contents)
    {
        switch ((char)type)
        {
            case 'a':
                return ReadArray(message, contents);
            case '(':
            case 'r':
                return ReadStruct(message, type, contents);
            case 'v':
                Enter(message, type, contents);
                if (!Peek(message, out var innerType, out var innerContents))
                {
                    throw new InvalidDataException("empty variant");
                }

                var inner = ReadValue(message, innerType, innerContents);
                Exit(message);
                return inner;
            default:
                return ReadBasic(message, (char)type);
        }
    }

    private static object ReadBasic(IntPtr message, char type)
    {
        ulong buffer = 0;
        Errno.Check(SdBusMessage.ReadBasic(message, (byte)type, &buffer), "sd_bus_message_read_basic");
        return type switch
        {
            'y' => (byte)buffer,
            'b' => *(int*)&buffer != 0,
            'n' => *(short*)&buffer,
            'q' => *(ushort*)&buffer,
            'i' => *(int*)&buffer,
            'h' => *(int*)&buffer,
            'u' => *(uint*)&buffer,
            'x' => *(long*)&buffer,
            't' => buffer,
            'd' => *(double*)&buffer,
            's' or 'g' => Marshal.PtrToStringUTF8((IntPtr)buffer)!,
            'o' => new BusObjectPath(Marshal.PtrToStringUTF8((IntPtr)buffer)!),
            _ => throw new InvalidDataException($"unsupported D-Bus type '{type}'"),
        };
    }

    private static object ReadArray(IntPtr message, IntPtr contents)
    {
        var elementSignature = Marshal.PtrToStringUTF8(contents)!;
        var element = elementSignature[0];
        if (elementSignature.Length == 1 && BusSignatureParser.IsFixedNumeric(element))
        {
            return ReadFixedArray(message, element);
        }

        Enter(message, (byte)'a', contents);
        object result;
        if (element == '{')
        {
            result = ReadDictionary(message, elementSignature[1] == 's');
        }
        else if (elementSignature.Length == 1 && BusSignatureParser.IsBasic(element))
        {
            result = element switch
            {
                's' or 'g' => ReadRemaining(message).Cast<string>().ToArray(),
                'o' => ReadRemaining(message).Cast<BusObjectPath>().ToArray(),
                'b' => ReadRemaining(message).Cast<bool>().ToArray(),
                _ => ReadRemaining(message).Cast<int>().ToArray(), // h
            };
        }
        else
        {
            result = ReadRemaining(message).ToArray();
        }

        Exit(message);
        return result;
    }

    private static object ReadFixedArray(IntPtr message, char element)
    {
        Errno.Check(SdBusMessage.ReadArray(message, (byte)element, out var ptr, out var size), "sd_bus_message_read_array");
        var bytes = new ReadOnlySpan<byte>((void*)ptr, checked((int)size));
        return element switch
        {
            'y' => bytes.ToArray(),
            'n' => MemoryMarshal.Cast<byte, short>(bytes).ToArray(),
            'q' => MemoryMarshal.Cast<byte, ushort>(bytes).ToArray(),
            'i' => MemoryMarshal.Cast<byte, int>(bytes).ToArray(),
            'u' => MemoryMarshal.Cast<byte, uint>(bytes).ToArray(),
            'x' => MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
            't' => MemoryMarshal.Cast<byte, ulong>(bytes).ToArray(),
            _ => MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
        };
    }

    private static object ReadDictionary(IntPtr message, bool stringKeys)
    {
        var byString = stringKeys ? new Dictionary<string, object>(StringComparer.Ordinal) : null;
        var byObject = stringKeys ? null : new Dictionary<object, object>();
        while (Peek(message, out var entryType, out var entryContents))
        {
            Enter(message, entryType, entryContents);
            Peek(message, out var keyType, out _);
            var key = ReadBasic(message, (char)keyType);
            Peek(message, out var valueType, out var valueContents);
            var value = ReadValue(message, valueType, valueContents);
            Exit(message);
            if (byString is not null)
            {
                byString[(string)key] = value;
            }
            else
            {
                byObject![key] = value;
            }
        }

        return (object?)byString ?? byObject!;
    }

    private static object[] ReadStruct(IntPtr message, byte type, IntPtr contents)
    {
        Enter(message, type, contents);
        var fields = ReadRemaining(message).ToArray();
        Exit(message);
        return fields;
    }

    private static List<object> ReadRemaining(IntPtr message)
    {
        var values = new List<object>();
        while (Peek(message, out var type, out var contents))
        {
            values.Add(ReadValue(message, type, contents));
        }

        return values;
    }

    private static void Enter(IntPtr message, byte type, IntPtr contents) =>
        Errno.Check(SdBusMessage.EnterContainer(message, type, contents), "sd_bus_message_enter_container");

    private static void Exit(IntPtr message) =>
        Errno.Check(SdBusMessage.ExitContainer(message), "sd_bus_message_exit_container");
}
