namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// A value to send as a variant with an explicit signature (e.g. <c>t</c> rather than the inferred <c>i</c>).
/// Received variants are unwrapped to their plain values, so this type only appears when sending.
/// </summary>
public sealed record BusVariant(string Signature, object Value);
