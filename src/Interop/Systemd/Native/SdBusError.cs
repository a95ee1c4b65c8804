using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Systemd.Native;

/// <summary>
/// sd_bus_error from sd-bus.h: two string pointers and the private _need_free flag.
/// Initialise zeroed (SD_BUS_ERROR_NULL) and release with sd_bus_error_free(3).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SdBusError
{
    public IntPtr Name;
    public IntPtr Message;
    public int NeedFree;
}
