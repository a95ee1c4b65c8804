using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>
/// sd_bus_message_* entry points: construction, typed append and read (sd_bus_message_append_basic(3),
/// sd_bus_message_read_basic(3), sd_bus_message_open_container(3)). Bus thread only.
/// </summary>
internal static unsafe partial class SdBusMessage
{
    private const string Lib = "libsystemd.so.0";

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_new_method_call", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int NewMethodCall(IntPtr bus, out IntPtr message, string? destination, string path, string? iface, string member);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_new_method_return")]
    public static partial int NewMethodReturn(IntPtr call, out IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_new_signal", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int NewSignal(IntPtr bus, out IntPtr message, string path, string iface, string member);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_ref")]
    public static partial IntPtr Ref(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_unref")]
    public static partial IntPtr Unref(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_error")]
    public static partial SdBusError* GetError(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_signature")]
    public static partial IntPtr GetSignature(IntPtr message, int complete);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_sender")]
    public static partial IntPtr GetSender(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_path")]
    public static partial IntPtr GetPath(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_interface")]
    public static partial IntPtr GetInterface(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_member")]
    public static partial IntPtr GetMember(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_get_expect_reply")]
    public static partial int GetExpectReply(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_append_basic")]
    public static partial int AppendBasic(IntPtr message, byte type, void* value);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_append_array")]
    public static partial int AppendArray(IntPtr message, byte type, void* ptr, nuint size);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_open_container", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenContainer(IntPtr message, byte type, string contents);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_close_container")]
    public static partial int CloseContainer(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_read_basic")]
    public static partial int ReadBasic(IntPtr message, byte type, void* value);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_read_array")]
    public static partial int ReadArray(IntPtr message, byte type, out IntPtr ptr, out nuint size);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_enter_container")]
    public static partial int EnterContainer(IntPtr message, byte type, IntPtr contents);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_exit_container")]
    public static partial int ExitContainer(IntPtr message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_message_peek_type")]
    public static partial int PeekType(IntPtr message, out byte type, out IntPtr contents);
}
