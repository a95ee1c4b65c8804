namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>The daemon's configuration (<c>--config</c> JSON, then command-line overrides).</summary>
public sealed record DaemonOptions
{
    public string StateDirectory { get; init; } = "/var/lib/localmigrate";
    public string RuntimeDirectory { get; init; } = "/run/localmigrate";

    /// <summary>Guest RAM files of shared-memory domains: on tmpfs, one 0600 file per domain.</summary>
    public string SharedMemoryDirectory { get; init; } = "/dev/shm/localmigrate";

    public string QemuBinary { get; init; } = "/usr/bin/qemu-system-x86_64";

    /// <summary>The accelerator of a definition that names none.</summary>
    public string DefaultAccel { get; init; } = "kvm";

    /// <summary>How many migrations an upgrade runs at once, at most.</summary>
    public int MaxParallelMigrations { get; init; } = 4;

    /// <summary>How long an ACPI power-off may take before stop gives up (or kills, with --force).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the stale check compares the files each running QEMU was started from with those on disk (a stat each).</summary>
    public TimeSpan StaleCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Package databases whose change (apt, dpkg, dnf) makes the stale check probe the installed QEMU again.</summary>
    public IReadOnlyList<string> PackageDatabases { get; init; } = ["/var/lib/dpkg/status", "/var/lib/rpm/rpmdb.sqlite"];

    /// <summary>
    /// Where to create each QEMU's scope unit: null = the system bus when running as a systemd service, "off" = never,
    /// or a bus address (tests use a scripted systemd on a private bus).
    /// </summary>
    public string? ScopeBus { get; init; }

    /// <summary>Uids besides 0 allowed to call mutating D-Bus methods.</summary>
    public IReadOnlyList<uint> AllowedUids { get; init; } = [];

    /// <summary>Groups whose members may call mutating D-Bus methods.</summary>
    public IReadOnlyList<string> AllowedGroups { get; init; } = [];

    /// <summary>Peers on other hosts: listeners, certificates, ssh.</summary>
    public RemoteOptions Remote { get; init; } = new();
}
