namespace LocalMigrate.Contract;

/// <summary>One argument of a method: its name (shown by introspection) and its D-Bus signature.</summary>
public sealed record BusArgument(string Name, string Signature);
