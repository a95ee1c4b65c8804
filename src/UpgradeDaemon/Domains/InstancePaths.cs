namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Every runtime path of one QEMU instance, under <c>&lt;runtime-dir&gt;/&lt;name&gt;.&lt;instance-id&gt;/</c>: two
/// instances of one domain coexist during a migration, so nothing here may be named by the domain alone.
/// </summary>
public sealed record InstancePaths(string Directory)
{
    // sun_path is 108 bytes including the terminating NUL (unix(7)).
    public const int MaxSocketPathBytes = 107;

    public static InstancePaths For(string runtimeDirectory, string domainName, string instanceId) =>
        new(Path.Combine(runtimeDirectory, $"{domainName}.{instanceId}"));

    public string QmpSocket => Path.Combine(Directory, "qmp.sock");
    public string SerialSocket => Path.Combine(Directory, "serial.sock");
    public string MigrationSocket => Path.Combine(Directory, "migration.sock");
    public string InstanceFile => Path.Combine(Directory, "instance.json");
    public string QemuLog => Path.Combine(Directory, "qemu.log");

    /// <exception cref="ArgumentException">A socket path would not fit in sun_path.</exception>
    public void ValidateSocketLengths()
    {
        foreach (var socket in new[] { QmpSocket, SerialSocket, MigrationSocket })
        {
            if (System.Text.Encoding.UTF8.GetByteCount(socket) > MaxSocketPathBytes)
                throw new ArgumentException($"runtime path too long for a unix socket ({MaxSocketPathBytes} bytes max): {socket}; use a shorter --runtime-dir or domain name");
        }
    }
}
