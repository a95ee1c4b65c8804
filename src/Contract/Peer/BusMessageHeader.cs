using System.Buffers.Binary;
using System.Text;

namespace LocalMigrate.Contract.Peer;

/// <summary>
/// The fields of a D-Bus message header the bridge decides on (D-Bus specification, "Message Format"): the fixed
/// 16 bytes, then an array of (code, variant) fields, padded to 8; the body follows.
/// </summary>
internal sealed record BusMessageHeader(byte Type, string? Destination, string? Interface, string? Member)
{
    public const byte MethodCall = 1;
    public const byte MethodReturn = 2;
    public const byte Error = 3;
    public const byte Signal = 4;

    /// <summary>Header and body length from the fixed part; -1 for a bad endianness mark.</summary>
    public static long TotalLength(ReadOnlySpan<byte> fixedPart)
    {
        if (fixedPart[0] is not ((byte)'l' or (byte)'B'))
            return -1;
        var little = fixedPart[0] == 'l';
        long body = ReadUInt32(fixedPart[4..], little);
        long fields = ReadUInt32(fixedPart[12..], little);
        return Align(16 + fields, 8) + body;
    }

    /// <exception cref="FormatException">A header field that runs past the header.</exception>
    public static BusMessageHeader Parse(ReadOnlySpan<byte> message)
    {
        var little = message[0] == 'l';
        var end = 16 + (int)ReadUInt32(message[12..], little);
        string? destination = null, interfaceName = null, member = null;
        var position = 16;
        while (position < end)
        {
            position = (int)Align(position, 8);
            if (position >= end)
                break;
            var code = message[position];
            var signatureLength = message[position + 1];
            var type = (char)message[position + 2];
            position += 2 + signatureLength + 1;
            switch (type)
            {
                case 's' or 'o':
                {
                    position = (int)Align(position, 4);
                    var length = (int)ReadUInt32(message[position..], little);
                    var text = Encoding.UTF8.GetString(message.Slice(position + 4, length));
                    position += 4 + length + 1;
                    if (code == 6)
                        destination = text;
                    else if (code == 2)
                        interfaceName = text;
                    else if (code == 3)
                        member = text;
                    break;
                }
                case 'g':
                    position += 1 + message[position] + 1;
                    break;
                case 'u':
                    position = (int)Align(position, 4) + 4;
                    break;
                default:
                    throw new FormatException($"header field {code} of type '{type}'");
            }
        }
        if (position > end)
            throw new FormatException("header fields run past the header");
        return new BusMessageHeader(message[1], destination, interfaceName, member);
    }

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    private static long Align(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
