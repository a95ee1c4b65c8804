namespace LocalMigrate.Contract;

/// <summary>A read-only property of an interface (no property of org.localmigrate1 is writable).</summary>
public sealed record BusProperty(string Interface, string Name, string Signature, PropertyEmits Emits);
