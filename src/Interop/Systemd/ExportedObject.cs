namespace LocalMigrate.Interop.Systemd;

/// <summary>All interfaces registered for one <see cref="BusConnection.AddObjectAsync"/> call.</summary>
internal sealed class ExportedObject(IReadOnlyList<ExportedInterface> interfaces) : IBusResource
{
    public void Release()
    {
        foreach (var iface in interfaces)
        {
            iface.Release();
        }
    }
}
