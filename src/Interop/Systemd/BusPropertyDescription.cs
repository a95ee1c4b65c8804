namespace LocalMigrate.Interop.Systemd;

/// <summary>A read-only exported property. The getter runs on the bus thread and must be fast and non-blocking.</summary>
public sealed record BusPropertyDescription(string Name, string Signature, Func<object> Getter, BusPropertyFlags Flags);
