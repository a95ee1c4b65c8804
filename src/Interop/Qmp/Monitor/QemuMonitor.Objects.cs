namespace LocalMigrate.Interop.Qmp.Monitor;

// User-creatable objects: qapi/qom.json. Credentials and authorization for TLS migration live here.
public sealed partial class QemuMonitor
{
    /// <summary><c>object-add</c>: QEMU refuses an id in use and, for credentials, files it cannot load.</summary>
    public Task ObjectAddAsync(QemuObject qemuObject, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("object-add", qemuObject, timeout, cancellationToken);

    /// <summary><c>object-del</c>: removes an object <see cref="ObjectAddAsync"/> created.</summary>
    public Task ObjectDelAsync(string id, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("object-del", new { Id = id }, timeout, cancellationToken);
}
