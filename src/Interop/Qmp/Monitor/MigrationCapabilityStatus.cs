namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/migration.json <c>MigrationCapabilityStatus</c>: one capability switched on or off.</summary>
public sealed record MigrationCapabilityStatus(MigrationCapability Capability, bool State);
