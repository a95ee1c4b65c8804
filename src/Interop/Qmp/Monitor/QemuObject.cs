namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// Arguments of <c>object-add</c> (qapi/qom.json <c>ObjectOptions</c>): QEMU 6.0+ takes the type, the id and the
/// type's own members flat in one object, which is what serializing the derived record gives.
/// </summary>
public abstract record QemuObject
{
    /// <summary>The QOM type name, e.g. <c>tls-creds-x509</c>.</summary>
    public abstract string QomType { get; }

    /// <summary>The object's id: what <c>object-del</c> and parameters such as <c>tls-creds</c> name.</summary>
    public required string Id { get; init; }
}
