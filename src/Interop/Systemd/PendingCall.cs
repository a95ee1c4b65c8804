using System.Runtime.InteropServices;
using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// An outgoing sd_bus_call_async(3) awaiting its reply. sd-bus drops reply callbacks silently when the bus
/// closes, so the connection tracks every pending call and fails it itself. Bus thread only, except Task.
/// </summary>
internal sealed unsafe class PendingCall
{
    private readonly BusConnection _owner;
    private readonly string _description;
    private readonly string? _expectedSignature;
    private readonly TaskCompletionSource<object[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private GCHandle _handle;
    private IntPtr _slot;

    public PendingCall(BusConnection owner, string description, string? expectedSignature)
    {
        _owner = owner;
        _description = description;
        _expectedSignature = expectedSignature;
    }

    public Task<object[]> Task => _completion.Task;

    /// <summary>Sends the call. Native timeout is infinite (UINT64_MAX): the managed side owns timeouts.</summary>
    public void Start(IntPtr bus, IntPtr message)
    {
        _handle = GCHandle.Alloc(this);
        var rc = SdBus.CallAsync(bus, out _slot, message, &NativeCallbacks.OnCallReply, GCHandle.ToIntPtr(_handle), ulong.MaxValue);
        if (rc < 0)
        {
            _handle.Free();
            Errno.Check(rc, $"sd_bus_call_async({_description})");
        }
    }

    public void OnReply(IntPtr message)
    {
        if (!_owner.ForgetPending(this))
        {
            return;
        }

        // Unref the slot once this callback has returned rather than from inside it.
        var slot = _slot;
        _slot = IntPtr.Zero;
        _owner.PostSlotUnref(slot);
        _handle.Free();

        try
        {
            var error = SdBusMessage.GetError(message);
            if (error is not null && error->Name != IntPtr.Zero)
            {
                _completion.TrySetException(new BusErrorException(
                    Marshal.PtrToStringUTF8(error->Name)!,
                    Marshal.PtrToStringUTF8(error->Message) ?? ""));
                return;
            }

            var signature = Marshal.PtrToStringUTF8(SdBusMessage.GetSignature(message, 1)) ?? "";
            if (_expectedSignature is not null && signature != _expectedSignature)
            {
                throw new InvalidDataException($"{_description} replied '{signature}', expected '{_expectedSignature}'");
            }

            _completion.TrySetResult(MessageReader.ReadAll(message));
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
        }
    }

    /// <summary>Cancels, times out or fails the call; a reply arriving afterwards is never delivered.</summary>
    public void Fail(Exception reason)
    {
        if (!_owner.ForgetPending(this))
        {
            return;
        }

        if (_slot != IntPtr.Zero)
        {
            SdBus.SlotUnref(_slot);
            _slot = IntPtr.Zero;
        }

        if (_handle.IsAllocated)
        {
            _handle.Free();
        }

        _completion.TrySetException(reason);
    }

    /// <summary>For a call that never reached sd_bus_call_async.</summary>
    public void FailBeforeStart(Exception reason) => _completion.TrySetException(reason);
}
