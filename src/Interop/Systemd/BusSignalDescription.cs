namespace LocalMigrate.Interop.Systemd;

/// <summary>A signal declared for introspection; emitted with <see cref="BusConnection.EmitSignal"/>.</summary>
public sealed record BusSignalDescription(string Name, string Signature, IReadOnlyList<string> ArgNames);
