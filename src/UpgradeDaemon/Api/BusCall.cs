namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>A method call, its arguments read by the contract's signature (see <see cref="BusValues.ReadArguments"/>).</summary>
internal sealed record BusCall(string Sender, string Member, object?[] Args);
