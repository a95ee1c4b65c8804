using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Systemd;

/// <summary>A bare sd_bus_slot (e.g. from sd_bus_add_object_manager(3)); unref'ing the slot undoes the registration.</summary>
internal sealed class SlotResource(IntPtr slot) : IBusResource
{
    public void Release() => SdBus.SlotUnref(slot);
}
