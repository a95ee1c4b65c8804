using System.Runtime.InteropServices;
using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// One interface registered at one path with sd_bus_add_object_vtable(3). Owns the native vtable and the
/// GCHandle passed as userdata; both live until <see cref="Release"/> has unref'd the slot. Bus thread only.
/// </summary>
internal sealed unsafe class ExportedInterface
{
    private readonly BusConnection _owner;
    private readonly string _path;
    private readonly BusInterface _interface;
    private NativeVtable? _vtable;
    private GCHandle _handle;
    private IntPtr _slot;

    public ExportedInterface(BusConnection owner, string path, BusInterface iface)
    {
        _owner = owner;
        _path = path;
        _interface = iface;
    }

    public void Register(IntPtr bus)
    {
        _vtable = new NativeVtable(_interface);
        _handle = GCHandle.Alloc(this);
        var rc = SdBus.AddObjectVtable(bus, out _slot, _path, _interface.Name, _vtable.Pointer, GCHandle.ToIntPtr(_handle));
        if (rc < 0)
        {
            Release();
            Errno.Check(rc, $"sd_bus_add_object_vtable({_path}, {_interface.Name})");
        }
    }

    public void Release()
    {
        // The slot first: sd-bus reads the vtable until the registration is gone.
        if (_slot != IntPtr.Zero)
        {
            SdBus.SlotUnref(_slot);
            _slot = IntPtr.Zero;
        }

        _vtable?.Dispose();
        _vtable = null;
        if (_handle.IsAllocated)
        {
            _handle.Free();
        }
    }

    /// <summary>Reads the call, then hands it to the thread pool; returning 1 tells sd-bus the reply comes later.</summary>
    public int OnMethodCall(IntPtr message, SdBusError* retError)
    {
        var member = Marshal.PtrToStringUTF8(SdBusMessage.GetMember(message)) ?? "";
        if (!_interface.MethodsByName.TryGetValue(member, out var method))
        {
            return NativeCallbacks.SetError(retError, BusErrorNames.UnknownMethod, $"{_interface.Name}.{member} is not implemented");
        }

        object[] args;
        try
        {
            args = MessageReader.ReadAll(message);
        }
        catch (Exception e)
        {
            return NativeCallbacks.SetError(retError, BusErrorNames.InvalidArgs, e.Message);
        }

        uint uid;
        try
        {
            uid = _owner.QuerySenderUid(message);
        }
        catch (Exception e)
        {
            return NativeCallbacks.SetError(retError, BusErrorNames.AccessDenied, "cannot determine the caller's uid: " + e.Message);
        }

        var call = new BusMethodCall(
            Marshal.PtrToStringUTF8(SdBusMessage.GetPath(message)) ?? _path,
            _interface.Name,
            member,
            Marshal.PtrToStringUTF8(SdBusMessage.GetSender(message)) ?? "",
            uid,
            method.InSignature,
            args);
        _owner.Dispatch(message, method, call);
        return 1;
    }

    public int OnPropertyGet(string name, IntPtr reply, SdBusError* retError)
    {
        if (!_interface.PropertiesByName.TryGetValue(name, out var property))
        {
            return NativeCallbacks.SetError(retError, BusErrorNames.InvalidArgs, $"no property {_interface.Name}.{name}");
        }

        try
        {
            MessageWriter.Write(reply, property.Signature, property.Getter());
            return 0;
        }
        catch (BusErrorException e)
        {
            return NativeCallbacks.SetError(retError, e.ErrorName, e.Message);
        }
        catch (Exception e)
        {
            return NativeCallbacks.SetError(retError, BusErrorNames.Failed, $"reading {_interface.Name}.{name} failed: {e.Message}");
        }
    }
}
