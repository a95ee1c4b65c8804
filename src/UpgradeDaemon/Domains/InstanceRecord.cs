namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// <c>instance.json</c>: what a restarted daemon needs to re-adopt a QEMU it did not start. Pid and start time
/// together identify the process, so a recycled pid is never adopted.
/// </summary>
public sealed record InstanceRecord
{
    public required string Name { get; init; }
    public required Guid Uuid { get; init; }
    public required string InstanceId { get; init; }
    public required InstanceRole Role { get; init; }
    public required string Binary { get; init; }
    public int Pid { get; init; }
    public ulong StartTime { get; init; }
    public string? QemuVersion { get; init; }

    /// <summary>The build, e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3": two builds of one QEMU version differ only here.</summary>
    public string? QemuPackage { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Per tap NIC, its backend as started (tap, bridge, vhost on/off, shared with a source's pid): see <see cref="NicBackends"/>.</summary>
    public IReadOnlyList<string>? Nics { get; init; }
}
