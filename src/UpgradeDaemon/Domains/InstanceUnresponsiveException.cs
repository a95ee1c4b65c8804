namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>A QEMU did not do what it was asked in time (no QMP reply, or it would not die); the domain is left as it was.</summary>
public sealed class InstanceUnresponsiveException(string message, Exception? inner = null) : Exception(message, inner);
