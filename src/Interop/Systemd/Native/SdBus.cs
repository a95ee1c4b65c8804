using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>
/// sd-bus entry points (libsystemd.so.0, systemd 252). Only typed, non-variadic calls: variadic
/// functions such as sd_bus_message_append cannot be called safely through P/Invoke.
/// Every function here must be called on the connection's bus thread.
/// See sd-bus(3) and https://www.freedesktop.org/software/systemd/man/sd-bus.html.
/// </summary>
internal static unsafe partial class SdBus
{
    private const string Lib = "libsystemd.so.0";

    // sd_bus_query_sender_creds(3): only the effective uid, read by the bus driver from SO_PEERCRED.
    public const ulong CredsEuid = 1UL << 4;

    [LibraryImport(Lib, EntryPoint = "sd_bus_new")]
    public static partial int New(out IntPtr bus);

    [LibraryImport(Lib, EntryPoint = "sd_bus_set_address", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetAddress(IntPtr bus, string address);

    [LibraryImport(Lib, EntryPoint = "sd_bus_set_bus_client")]
    public static partial int SetBusClient(IntPtr bus, int b);

    [LibraryImport(Lib, EntryPoint = "sd_bus_set_description", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetDescription(IntPtr bus, string description);

    [LibraryImport(Lib, EntryPoint = "sd_bus_set_exit_on_disconnect")]
    public static partial int SetExitOnDisconnect(IntPtr bus, int b);

    [LibraryImport(Lib, EntryPoint = "sd_bus_start")]
    public static partial int Start(IntPtr bus);

    [LibraryImport(Lib, EntryPoint = "sd_bus_attach_event")]
    public static partial int AttachEvent(IntPtr bus, IntPtr sdEvent, int priority);

    [LibraryImport(Lib, EntryPoint = "sd_bus_detach_event")]
    public static partial int DetachEvent(IntPtr bus);

    [LibraryImport(Lib, EntryPoint = "sd_bus_get_unique_name")]
    public static partial int GetUniqueName(IntPtr bus, out IntPtr name);

    [LibraryImport(Lib, EntryPoint = "sd_bus_flush")]
    public static partial int Flush(IntPtr bus);

    [LibraryImport(Lib, EntryPoint = "sd_bus_flush_close_unref")]
    public static partial IntPtr FlushCloseUnref(IntPtr bus);

    [LibraryImport(Lib, EntryPoint = "sd_bus_add_object_vtable", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int AddObjectVtable(IntPtr bus, out IntPtr slot, string path, string iface, IntPtr vtable, IntPtr userdata);

    [LibraryImport(Lib, EntryPoint = "sd_bus_add_object_manager", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int AddObjectManager(IntPtr bus, out IntPtr slot, string path);

    [LibraryImport(Lib, EntryPoint = "sd_bus_add_match_async", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int AddMatchAsync(
        IntPtr bus, out IntPtr slot, string match,
        delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> callback,
        delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> installCallback,
        IntPtr userdata);

    [LibraryImport(Lib, EntryPoint = "sd_bus_slot_unref")]
    public static partial IntPtr SlotUnref(IntPtr slot);

    [LibraryImport(Lib, EntryPoint = "sd_bus_call_async")]
    public static partial int CallAsync(
        IntPtr bus, out IntPtr slot, IntPtr message,
        delegate* unmanaged<IntPtr, IntPtr, IntPtr, int> callback, IntPtr userdata, ulong usec);

    [LibraryImport(Lib, EntryPoint = "sd_bus_send")]
    public static partial int Send(IntPtr bus, IntPtr message, IntPtr cookie);

    [LibraryImport(Lib, EntryPoint = "sd_bus_reply_method_error")]
    public static partial int ReplyMethodError(IntPtr call, SdBusError* error);

    [LibraryImport(Lib, EntryPoint = "sd_bus_emit_properties_changed_strv", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int EmitPropertiesChangedStrv(IntPtr bus, string path, string iface, IntPtr* names);

    [LibraryImport(Lib, EntryPoint = "sd_bus_emit_object_added", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int EmitObjectAdded(IntPtr bus, string path);

    [LibraryImport(Lib, EntryPoint = "sd_bus_emit_object_removed", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int EmitObjectRemoved(IntPtr bus, string path);

    [LibraryImport(Lib, EntryPoint = "sd_bus_query_sender_creds")]
    public static partial int QuerySenderCreds(IntPtr call, ulong mask, out IntPtr creds);

    [LibraryImport(Lib, EntryPoint = "sd_bus_creds_get_euid")]
    public static partial int CredsGetEuid(IntPtr creds, out uint uid);

    [LibraryImport(Lib, EntryPoint = "sd_bus_creds_unref")]
    public static partial IntPtr CredsUnref(IntPtr creds);

    [LibraryImport(Lib, EntryPoint = "sd_bus_error_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ErrorSet(SdBusError* error, string name, string? message);

    [LibraryImport(Lib, EntryPoint = "sd_bus_error_free")]
    public static partial void ErrorFree(SdBusError* error);
}
