using System.Runtime.InteropServices;
using LocalMigrate.Interop.Systemd.Native;
using Serilog;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Every function pointer handed to libsystemd. Each recovers its managed owner from the userdata GCHandle and
/// catches everything: an exception unwinding through native frames would tear the process down.
/// </summary>
internal static unsafe class NativeCallbacks
{
    private static readonly ILogger Log = Serilog.Log.ForContext(typeof(NativeCallbacks));

    // errno EIO, returned when a callback fails in an unexpected way.
    private const int Eio = 5;

    /// <summary>sd_event_io_handler_t for the work-queue eventfd.</summary>
    [UnmanagedCallersOnly]
    public static int OnWake(IntPtr source, int fd, uint revents, IntPtr userdata)
    {
        try
        {
            Owner<BusLoop>(userdata).OnWake();
            return 0;
        }
        catch (Exception e)
        {
            Log.Error(e, "Bus work queue failed");
            return 0;
        }
    }

    /// <summary>sd_bus_message_handler_t for exported methods (vtable METHOD entries).</summary>
    [UnmanagedCallersOnly]
    public static int OnMethodCall(IntPtr message, IntPtr userdata, IntPtr retError)
    {
        try
        {
            return Owner<ExportedInterface>(userdata).OnMethodCall(message, (SdBusError*)retError);
        }
        catch (Exception e)
        {
            return SetError((SdBusError*)retError, BusErrorNames.Failed, e.Message);
        }
    }

    /// <summary>sd_bus_property_get_t for exported properties.</summary>
    [UnmanagedCallersOnly]
    public static int OnPropertyGet(IntPtr bus, IntPtr path, IntPtr iface, IntPtr property, IntPtr reply, IntPtr userdata, IntPtr retError)
    {
        try
        {
            return Owner<ExportedInterface>(userdata).OnPropertyGet(Marshal.PtrToStringUTF8(property)!, reply, (SdBusError*)retError);
        }
        catch (Exception e)
        {
            return SetError((SdBusError*)retError, BusErrorNames.Failed, e.Message);
        }
    }

    /// <summary>sd_bus_message_handler_t for replies to sd_bus_call_async(3).</summary>
    [UnmanagedCallersOnly]
    public static int OnCallReply(IntPtr message, IntPtr userdata, IntPtr retError)
    {
        try
        {
            Owner<PendingCall>(userdata).OnReply(message);
        }
        catch (Exception e)
        {
            Log.Error(e, "Handling a method reply failed");
        }

        return 0;
    }

    /// <summary>sd_bus_message_handler_t for matched signals; 0 lets other matches see the message too.</summary>
    [UnmanagedCallersOnly]
    public static int OnMatch(IntPtr message, IntPtr userdata, IntPtr retError)
    {
        try
        {
            Owner<MatchSubscription>(userdata).OnMessage(message);
        }
        catch (Exception e)
        {
            Log.Error(e, "Handling a matched signal failed");
        }

        return 0;
    }

    /// <summary>Install callback of sd_bus_add_match_async(3): the bus driver's reply to AddMatch.</summary>
    [UnmanagedCallersOnly]
    public static int OnMatchInstalled(IntPtr message, IntPtr userdata, IntPtr retError)
    {
        try
        {
            Owner<MatchSubscription>(userdata).OnInstalled(message);
        }
        catch (Exception e)
        {
            Log.Error(e, "Handling the AddMatch reply failed");
        }

        return 0;
    }

    /// <summary>Fills sd_bus_error and returns the negative errno sd-bus expects from a failing callback.</summary>
    public static int SetError(SdBusError* error, string name, string message)
    {
        try
        {
            var rc = SdBus.ErrorSet(error, name, message);
            return rc < 0 ? rc : -Eio;
        }
        catch
        {
            return -Eio;
        }
    }

    private static T Owner<T>(IntPtr userdata)
        where T : class => (T)GCHandle.FromIntPtr(userdata).Target!;
}
