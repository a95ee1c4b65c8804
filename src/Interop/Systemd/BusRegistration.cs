namespace LocalMigrate.Interop.Systemd;

/// <summary>Handle returned for an exported object or object manager; disposing it unregisters on the bus thread.</summary>
internal sealed class BusRegistration(BusConnection connection, IBusResource resource) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => new(connection.ReleaseAsync(resource));
}
