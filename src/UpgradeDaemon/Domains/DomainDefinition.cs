namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// A domain as stored (schema version 1, DESIGN.md section 2). Everything that is guest ABI (uuid, machine
/// type, MAC addresses) is resolved at define time and stored, so every later QEMU builds the same machine.
/// </summary>
public sealed record DomainDefinition
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string Name { get; init; }
    public required Guid Uuid { get; init; }
    public int MemoryMiB { get; init; } = 256;
    public int Vcpus { get; init; } = 1;

    /// <summary>A versioned machine type such as pc-q35-7.2 once stored.</summary>
    public string Machine { get; init; } = "q35";

    public string? Accel { get; init; }

    /// <summary>The QEMU binary; null means the daemon's configured default.</summary>
    public string? Qemu { get; init; }

    public string? Kernel { get; init; }
    public string? Initrd { get; init; }
    public string? Cmdline { get; init; }
    public IReadOnlyList<DiskDefinition> Disks { get; init; } = [];
    public IReadOnlyList<NicDefinition> Nics { get; init; } = [];
    public MemoryBacking MemoryBacking { get; init; } = MemoryBacking.Shared;
}
