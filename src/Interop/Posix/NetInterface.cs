using System.Runtime.InteropServices;
using System.Text;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Network interfaces of the caller's network namespace through netdevice(7) ioctls on a datagram socket: no `ip`
/// process, no netlink parsing, and it answers for the namespace the process runs in whatever /sys shows.
/// </summary>
public static unsafe class NetInterface
{
    private const ulong SIOCGIFFLAGS = 0x8913;
    private const ulong SIOCSIFFLAGS = 0x8914;
    private const ulong SIOCGIFMTU = 0x8921;
    private const ulong SIOCSIFMTU = 0x8922;
    private const ulong SIOCGIFINDEX = 0x8933;
    private const ulong SIOCETHTOOL = 0x8946;
    private const ulong SIOCBRADDIF = 0x89a2;
    private const uint ETHTOOL_GDRVINFO = 3;
    private const short IFF_UP = 0x1;

    public const int MaxNameLength = IfReq.MaxNameLength;

    /// <returns>True when <paramref name="name"/> is 1-15 characters the kernel accepts as an interface name.</returns>
    public static bool IsValidName(string name)
    {
        try
        {
            IfReq.For(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static bool Exists(string name)
    {
        var request = IfReq.For(name);
        return TryIoctl(SIOCGIFINDEX, ref request) == 0;
    }

    /// <returns>The kernel driver behind the interface ("bridge", "tun", "veth", ...), or null when there is no such interface.</returns>
    public static string? DriverOf(string name)
    {
        var request = IfReq.For(name);
        // struct ethtool_drvinfo: u32 cmd, then char driver[32], ...; 196 bytes in all.
        var info = stackalloc byte[196];
        new Span<byte>(info, 196).Clear();
        *(uint*)info = ETHTOOL_GDRVINFO;
        request.Data = info;
        if (TryIoctl(SIOCETHTOOL, ref request) != 0)
            return Exists(name) ? "" : null;
        var driver = new ReadOnlySpan<byte>(info + 4, 32);
        var end = driver.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? driver : driver[..end]);
    }

    public static int MtuOf(string name)
    {
        var request = IfReq.For(name);
        Ioctl(SIOCGIFMTU, ref request, $"read the MTU of {name}");
        return request.Value;
    }

    public static void SetMtu(string name, int mtu)
    {
        var request = IfReq.For(name);
        request.Value = mtu;
        Ioctl(SIOCSIFMTU, ref request, $"set the MTU of {name} to {mtu}");
    }

    public static void SetUp(string name)
    {
        var request = IfReq.For(name);
        Ioctl(SIOCGIFFLAGS, ref request, $"read the flags of {name}");
        request.Flags |= IFF_UP;
        Ioctl(SIOCSIFFLAGS, ref request, $"bring {name} up");
    }

    /// <summary>Makes <paramref name="port"/> a port of <paramref name="bridge"/> (brctl addif).</summary>
    public static void AddToBridge(string bridge, string port)
    {
        var index = IfReq.For(port);
        Ioctl(SIOCGIFINDEX, ref index, $"find {port}");
        var request = IfReq.For(bridge);
        request.Value = index.Value;
        Ioctl(SIOCBRADDIF, ref request, $"add {port} to bridge {bridge}");
    }

    private static int TryIoctl(ulong command, ref IfReq request)
    {
        var socket = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (socket < 0)
            throw new IOException($"socket(AF_INET) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        try
        {
            fixed (IfReq* p = &request)
                return LibC.ioctl(socket, command, p) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            LibC.close(socket);
        }
    }

    private static void Ioctl(ulong command, ref IfReq request, string what)
    {
        var errno = TryIoctl(command, ref request);
        if (errno != 0)
            throw new IOException($"cannot {what}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
