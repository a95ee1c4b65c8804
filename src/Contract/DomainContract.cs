namespace LocalMigrate.Contract;

/// <summary><c>org.localmigrate1.Domain</c>, one object per domain at <see cref="BusContract.DomainPath"/>.</summary>
public static class DomainContract
{
    public const string Name = BusContract.DomainInterface;

    public static readonly BusMethod Start = new(Name, "Start", [], []);
    public static readonly BusMethod Stop = new(Name, "Stop", [new("force", "b")], []);
    public static readonly BusMethod Migrate = new(Name, "Migrate", [new("uri", "s"), new("options", "a{sv}")], [new("job", "o")]);
    public static readonly BusMethod Cancel = new(Name, "Cancel", [], [new("job", "o")]);
    public static readonly BusMethod Undefine = new(Name, "Undefine", [], []);

    /// <summary>Switches the running migration to postcopy (it must have been started with the postcopy option); returns its job.</summary>
    public static readonly BusMethod StartPostcopy = new(Name, "StartPostcopy", [], [new("job", "o")]);

    /// <summary>A qcow2 internal snapshot; diskOnly false also saves the guest's RAM and devices (the domain must run).</summary>
    public static readonly BusMethod CreateSnapshot = new(Name, "CreateSnapshot", [new("name", "s"), new("diskOnly", "b")], []);

    /// <summary>
    /// Each snapshot: name, created (Unix seconds), vmState, status (one of <see cref="BusContract.SnapshotStatuses"/>),
    /// disks (image paths), missingFrom (recorded images that lack it). See <see cref="SnapshotEntry"/>.
    /// </summary>
    public static readonly BusMethod ListSnapshots = new(Name, "ListSnapshots", [], [new("snapshots", SnapshotEntry.Signature)]);

    /// <summary>A VM-state snapshot while the domain runs (the guest returns to that instant); a disk-only one while it is shut off.</summary>
    public static readonly BusMethod RevertSnapshot = new(Name, "RevertSnapshot", [new("name", "s")], []);

    public static readonly BusMethod DeleteSnapshot = new(Name, "DeleteSnapshot", [new("name", "s")], []);

    public static readonly BusProperty DomainName = new(Name, "Name", "s", PropertyEmits.Const);
    public static readonly BusProperty Uuid = new(Name, "Uuid", "s", PropertyEmits.Const);

    /// <summary>One of <see cref="BusContract.DomainStates"/>.</summary>
    public static readonly BusProperty State = new(Name, "State", "s", PropertyEmits.Value);

    public static readonly BusProperty Pid = new(Name, "Pid", "u", PropertyEmits.Value);
    public static readonly BusProperty QemuBinary = new(Name, "QemuBinary", "s", PropertyEmits.Value);
    public static readonly BusProperty QemuVersion = new(Name, "QemuVersion", "s", PropertyEmits.Value);
    public static readonly BusProperty InstanceId = new(Name, "InstanceId", "s", PropertyEmits.Value);
    public static readonly BusProperty RuntimeDirectory = new(Name, "RuntimeDirectory", "s", PropertyEmits.Value);

    /// <summary>Invalidated rather than sent: computing it reads the QEMU process's mappings.</summary>
    public static readonly BusProperty Stale = new(Name, "Stale", "b", PropertyEmits.Invalidates);

    public static readonly BusProperty StaleReasons = new(Name, "StaleReasons", "as", PropertyEmits.Invalidates);
    public static readonly BusProperty ConsoleLog = new(Name, "ConsoleLog", "s", PropertyEmits.Const);
    public static readonly BusProperty Machine = new(Name, "Machine", "s", PropertyEmits.Const);
    public static readonly BusProperty MemoryMiB = new(Name, "MemoryMiB", "u", PropertyEmits.Const);
    public static readonly BusProperty MemoryBacking = new(Name, "MemoryBacking", "s", PropertyEmits.Const);

    /// <summary>The running job's path, or "/" when none runs.</summary>
    public static readonly BusProperty Job = new(Name, "Job", "o", PropertyEmits.Value);

    /// <summary>The last ended job's path, or "/".</summary>
    public static readonly BusProperty LastJob = new(Name, "LastJob", "o", PropertyEmits.Value);

    /// <summary>
    /// Per tap NIC of the running instance, its backend as started, e.g. "net0 tap lm1a2b3c4dn0 bridge br0 vhost off"
    /// (and "(shared with pid N)" when a local migration's target took the running QEMU's tap); empty when none runs.
    /// </summary>
    public static readonly BusProperty Nics = new(Name, "Nics", "as", PropertyEmits.Value);

    public static readonly BusInterfaceContract Interface = new(Name,
        [Start, Stop, Migrate, Cancel, Undefine, CreateSnapshot, ListSnapshots, RevertSnapshot, DeleteSnapshot, StartPostcopy],
        [DomainName, Uuid, State, Pid, QemuBinary, QemuVersion, InstanceId, RuntimeDirectory, Stale, StaleReasons, ConsoleLog, Machine,
            MemoryMiB, MemoryBacking, Job, LastJob, Nics]);
}
