using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>The few libc calls the bus loop and the journal probe need.</summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    // eventfd(2) flags.
    public const int EfdCloexec = 0x80000;
    public const int EfdNonblock = 0x800;

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buf, nuint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buf, nuint count);

    [LibraryImport(Lib, EntryPoint = "close")]
    public static partial int Close(int fd);

    // fstat(2); glibc >= 2.33 exports the symbol. Only st_dev and st_ino (the first two 64-bit
    // fields on x86_64 and aarch64) are read, so a generous zeroed buffer is passed.
    [LibraryImport(Lib, EntryPoint = "fstat", SetLastError = true)]
    public static partial int FStat(int fd, byte* statBuffer);

    [LibraryImport(Lib, EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport(Lib, EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int UnsetEnv(string name);

    [LibraryImport(Lib, EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr GetEnv(string name);
}
