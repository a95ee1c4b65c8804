namespace LocalMigrate.Interop.Systemd;

/// <summary>A received signal, its body parsed like method arguments (see <see cref="BusMethodCall.Args"/>).</summary>
public sealed record BusSignal(
    string Path,
    string Interface,
    string Member,
    string? Sender,
    string Signature,
    IReadOnlyList<object> Args);
