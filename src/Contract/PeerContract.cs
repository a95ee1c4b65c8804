namespace LocalMigrate.Contract;

/// <summary>
/// <c>org.localmigrate1.Peer</c> at <see cref="BusContract.PeerPath"/>: the destination half of a remote migration,
/// one method per step of <c>IMigrationDestination</c>, called by the source daemon on another host. The same
/// methods whatever carries them: the bus itself, or a bridge over ssh, TLS or TCP (see <c>Peer/BusBridge</c>).
/// <code>
///   source daemon                      destination daemon
///   Hello ──────────────────────────►  protocol version, host facts
///   Prepare(job, definition, opts) ─►  pre-flight, target QEMU -incoming -S in the shadow registry; port
///   (QEMU stream, direct) ══════════►
///   Finish(job) ────────────────────►  the stream arrived (target paused)
///   Verify(job) ────────────────────►  the target still holds the guest
///   Commit(job) ────────────────────►  journal "committed", define, promote, cont: the guest runs here
///   Abort(job)  (instead of Commit) ►  kill the target, forget it
///   Query(job)  (after a lost reply) ► prepared | committed | aborted | unknown
/// </code>
/// Versioning: <see cref="ProtocolVersion"/> goes up when a method or a required option changes meaning; a source
/// refuses a destination with another version before anything moves. Unknown option keys are refused by name.
/// </summary>
public static class PeerContract
{
    public const string Name = BusContract.PeerInterface;

    public const uint ProtocolVersion = 1;

    /// <summary>In: the source's facts (<see cref="HostKeys"/>). Out: this host's facts.</summary>
    public static readonly BusMethod Hello = new(Name, "Hello", [new("source", "a{sv}")], [new("host", "a{sv}")]);

    /// <summary>
    /// Pre-flight, then the target: started paused (<c>-S</c>) with <c>-incoming defer</c>, listening. Options:
    /// <see cref="PrepareKeys"/>. Out: <see cref="PreparedKeys"/>.
    /// </summary>
    public static readonly BusMethod Prepare = new(Name, "Prepare",
        [new("job", "s"), new("definition", "s"), new("options", "a{sv}")], [new("prepared", "a{sv}")]);

    /// <summary>Waits until the stream has arrived; the target then holds the guest, paused.</summary>
    public static readonly BusMethod Finish = new(Name, "Finish", [new("job", "s")], [new("pid", "u"), new("qemuVersion", "s")]);

    /// <summary>"" when the target still holds the guest; otherwise why not.</summary>
    public static readonly BusMethod Verify = new(Name, "Verify", [new("job", "s"), new("guestRan", "b")], [new("problem", "s")]);

    /// <summary>The commit point: journaled first, then the domain is defined and promoted here and its guest resumed.</summary>
    public static readonly BusMethod Commit = new(Name, "Commit", [new("job", "s")], []);

    /// <summary>Rollback: the target is killed and forgotten. Safe in any state, twice, and for a job never seen.</summary>
    public static readonly BusMethod Abort = new(Name, "Abort", [new("job", "s")], []);

    /// <summary>One of <see cref="IncomingStates"/>: what this host did with the job, read from its journal.</summary>
    public static readonly BusMethod Query = new(Name, "Query", [new("job", "s")], [new("state", "s")]);

    /// <summary>
    /// The destination's cancel (<c>localmigrate cancel NAME</c> there): the prepared target of that domain is killed, which
    /// breaks the source's stream; the source rolls back and keeps the guest. Out: the job. Refused once committed.
    /// </summary>
    public static readonly BusMethod CancelIncoming = new(Name, "CancelIncoming", [new("domain", "s")], [new("job", "s")]);

    public static readonly BusProperty Version = new(Name, "ProtocolVersion", "u", PropertyEmits.Const);

    public static readonly BusInterfaceContract Interface = new(Name,
        [Hello, Prepare, Finish, Verify, Commit, Abort, Query, CancelIncoming],
        [Version]);

    /// <summary>Keys of Hello's dictionaries.</summary>
    public static class HostKeys
    {
        public const string ProtocolVersion = "protocolVersion";
        public const string HostName = "hostName";
        public const string Architecture = "architecture";
        public const string QemuVersion = "qemuVersion";
        public const string MemAvailableBytes = "memAvailableBytes";
        public const string Maintenance = "maintenance";
    }

    /// <summary>Keys of Prepare's options.</summary>
    public static class PrepareKeys
    {
        /// <summary>s: the host name or address the source reached this host by; the target listens there.</summary>
        public const string ListenHost = "listenHost";

        /// <summary>b: define the domain here at Commit (default true); false: it runs here, undefined once it stops.</summary>
        public const string Persistent = "persistent";

        /// <summary>s: "none", "psk" or "x509": how the QEMU stream is protected.</summary>
        public const string StreamTls = "streamTls";

        /// <summary>s: the PSK identity; with <see cref="PskKey"/> (s, hex), for streamTls psk.</summary>
        public const string PskIdentity = "pskIdentity";

        public const string PskKey = "pskKey";

        /// <summary>as: QEMU migration capabilities the target must enable to read the stream (multifd, postcopy-ram...).</summary>
        public const string Capabilities = "capabilities";

        /// <summary>u: multifd channels; s: multifd compression (none, zlib, zstd).</summary>
        public const string MultifdChannels = "multifdChannels";

        public const string MultifdCompression = "multifdCompression";

        /// <summary>b: resume the guest at Commit (it ran on the source); default true.</summary>
        public const string Resume = "resume";

        /// <summary>b: offline: only the definition moves (Prepare checks it, Commit defines it; no QEMU starts).</summary>
        public const string Offline = "offline";

        /// <summary>b: only the pre-flight (evacuate's placement): refused as a migration would be, nothing journaled or started.</summary>
        public const string CheckOnly = "checkOnly";

        /// <summary>
        /// as: storage copy, one entry per disk the source mirrors here, "INDEX:VIRTUALSIZE:SYNC" (sync "full" or "top").
        /// This host creates each image (format of the definition; refused if the file exists), exports it over NBD with
        /// the stream's TLS, and names the port in <see cref="PreparedKeys.NbdPort"/>.
        /// </summary>
        public const string CopyDisks = "copyDisks";

        /// <summary>as: for sync "top" disks, "INDEX:FORMAT:PATH": the backing file the new image sits on (it must be here).</summary>
        public const string CopyBackings = "copyBackings";

        /// <summary>
        /// s: the source daemon's snapshot records of the domain, a JSON array as its catalog file holds them
        /// (<c>[{"name", "created", "vmState", "disks": [path...]}]</c>). Sent only when there is one (an older
        /// destination refuses the unknown key by name, so nothing moves without them). This host checks them against
        /// <c>qemu-img info</c> of its images (a mismatch is logged and marked in the record, never trusted) and stores them
        /// beside the definition at Commit; without the key, storage copy records what the copied images hold.
        /// </summary>
        public const string Snapshots = "snapshots";
    }

    /// <summary>Keys of Prepare's reply.</summary>
    public static class PreparedKeys
    {
        public const string InstanceId = "instanceId";
        public const string Pid = "pid";
        public const string Port = "port";
        public const string QemuVersion = "qemuVersion";

        /// <summary>as: the capabilities the target QEMU holds on, read back; as of "name=value": its parameters.</summary>
        public const string TargetCapabilities = "targetCapabilities";

        public const string TargetParameters = "targetParameters";

        /// <summary>u: the NBD server's port for storage copy; absent without <see cref="PrepareKeys.CopyDisks"/>.</summary>
        public const string NbdPort = "nbdPort";

        /// <summary>as: "NAME: what differs" for each sent snapshot record the images here disagree with (logged by the source under its job).</summary>
        public const string SnapshotProblems = "snapshotProblems";
    }

    /// <summary>Results of Query.</summary>
    public static class IncomingStates
    {
        public const string Prepared = "prepared";
        public const string Committed = "committed";
        public const string Aborted = "aborted";
        public const string Unknown = "unknown";
    }
}
