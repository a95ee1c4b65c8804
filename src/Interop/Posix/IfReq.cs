using System.Runtime.InteropServices;
using System.Text;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// struct ifreq (netdevice(7)) on x86_64: the interface name (IFNAMSIZ 16, NUL-terminated) and a 24-byte union of
/// which only the first member is used here (flags, ifindex, mtu, or a pointer).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct IfReq
{
    /// <summary>IFNAMSIZ - 1: the longest interface name the kernel takes.</summary>
    public const int MaxNameLength = 15;

    [FieldOffset(0)]
    public fixed byte Name[16];

    [FieldOffset(16)]
    public short Flags;

    [FieldOffset(16)]
    public int Value;

    [FieldOffset(16)]
    public void* Data;

    public static IfReq For(string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        if (bytes.Length is 0 or > MaxNameLength || name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || c > 0x7e))
            throw new ArgumentException($"'{name}' is not an interface name (1-{MaxNameLength} printable ASCII, no '/', ':' or space)", nameof(name));
        var request = default(IfReq);
        for (var i = 0; i < bytes.Length; i++)
            request.Name[i] = bytes[i];
        return request;
    }
}
