using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Tap devices through /dev/net/tun (Documentation/networking/tuntap.rst). A tap the daemon creates is not persistent:
/// the kernel deletes it (and takes it off its bridge) when the last open file of it closes, so it lives exactly as
/// long as some QEMU holding it runs, whoever crashes.
/// </summary>
public static unsafe class TapDevice
{
    private const ulong TUNSETIFF = 0x400454ca;
    private const ulong TUNSETPERSIST = 0x400454cb;
    private const ulong TUNGETVNETHDRSZ = 0x800454d7;
    private const ulong TUNSETVNETHDRSZ = 0x400454d8;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;
    private const short IFF_VNET_HDR = 0x4000;
    private const short IFF_TUN_EXCL = unchecked((short)0x8000);

    /// <summary>Creates a new tap named <paramref name="name"/>, not persistent, with the virtio-net header QEMU uses.</summary>
    /// <returns>An open fd (O_CLOEXEC) of its one queue; closing the last copy deletes the tap.</returns>
    /// <exception cref="IOException">The name is taken (EBUSY) or the kernel refused.</exception>
    public static int Create(string name) => Attach(name, exclusive: true);

    /// <summary>Opens an existing, persistent tap (managed by the operator). It is left persistent.</summary>
    public static int Open(string name) => Attach(name, exclusive: false);

    /// <summary>
    /// Deletes a tap left persistent by someone else under a name the daemon owns: attach, clear persist, close.
    /// Refused (EBUSY) while a process holds it.
    /// </summary>
    public static void DeleteStale(string name)
    {
        var fd = Attach(name, exclusive: false);
        try
        {
            var errno = LibC.ioctl(fd, TUNSETPERSIST, null) == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (errno != 0)
                throw new IOException($"cannot clear persist on tap {name}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>TUNGETVNETHDRSZ: the virtio-net header length the tap reads and writes (10, or 12 with mergeable rx buffers).</summary>
    public static int VnetHeaderSize(int fd)
    {
        int size;
        if (LibC.ioctl(fd, TUNGETVNETHDRSZ, &size) != 0)
            throw new IOException($"TUNGETVNETHDRSZ failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return size;
    }

    /// <summary>TUNSETVNETHDRSZ: a property of the tap, shared by every open file of it.</summary>
    public static void SetVnetHeaderSize(int fd, int size)
    {
        if (LibC.ioctl(fd, TUNSETVNETHDRSZ, &size) != 0)
            throw new IOException($"TUNSETVNETHDRSZ {size} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    private static int Attach(string name, bool exclusive)
    {
        var request = IfReq.For(name);
        request.Flags = (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (exclusive ? IFF_TUN_EXCL : 0));
        var fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (fd < 0)
            throw new IOException($"cannot open /dev/net/tun: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        if (LibC.ioctl(fd, TUNSETIFF, &request) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.close(fd);
            throw new IOException(errno == LibC.EBUSY
                ? $"tap {name}: {(exclusive ? "the name is taken" : "in use by another process")}"
                : $"tap {name}: TUNSETIFF failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return fd;
    }
}
