namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>A QEMU binary cannot be used: missing, not executable, crashed at start, or lacking a machine type.</summary>
public sealed class QemuBinaryException(string binary, string reason, Exception? innerException = null)
    : Exception($"QEMU binary {binary}: {reason}", innerException)
{
    public string Binary { get; } = binary;
    public string Reason { get; } = reason;
}
