namespace LocalMigrate.Interop.Systemd;

/// <summary>The connection was closed (disposed or disconnected by the bus) before the operation completed.</summary>
public sealed class BusClosedException : ObjectDisposedException
{
    public BusClosedException(string message)
        : base(nameof(BusConnection), message)
    {
    }
}
