using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>sd-event entry points used to run the bus loop (sd-event(3)).</summary>
internal static unsafe partial class SdEvent
{
    private const string Lib = "libsystemd.so.0";

    // epoll(7) EPOLLIN, as sd_event_add_io(3) takes epoll event masks.
    public const uint EpollIn = 0x001;

    [LibraryImport(Lib, EntryPoint = "sd_event_new")]
    public static partial int New(out IntPtr sdEvent);

    [LibraryImport(Lib, EntryPoint = "sd_event_unref")]
    public static partial IntPtr Unref(IntPtr sdEvent);

    [LibraryImport(Lib, EntryPoint = "sd_event_loop")]
    public static partial int Loop(IntPtr sdEvent);

    [LibraryImport(Lib, EntryPoint = "sd_event_exit")]
    public static partial int Exit(IntPtr sdEvent, int code);

    [LibraryImport(Lib, EntryPoint = "sd_event_add_io")]
    public static partial int AddIo(
        IntPtr sdEvent, out IntPtr source, int fd, uint events,
        delegate* unmanaged<IntPtr, int, uint, IntPtr, int> callback, IntPtr userdata);

    [LibraryImport(Lib, EntryPoint = "sd_event_source_unref")]
    public static partial IntPtr SourceUnref(IntPtr source);
}
