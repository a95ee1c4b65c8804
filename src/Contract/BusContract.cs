namespace LocalMigrate.Contract;

/// <summary>
/// The names of org.localmigrate1 (DESIGN.md section 2, contract): bus name, paths, interfaces, error names,
/// option keys and the state strings properties take. The members of each interface are in
/// <see cref="ManagerContract"/>, <see cref="DomainContract"/> and <see cref="JobContract"/>.
/// </summary>
public static class BusContract
{
    public const string ServiceName = "org.localmigrate1";
    public const string ManagerPath = "/org/localmigrate1";
    public const string DomainPathPrefix = "/org/localmigrate1/domain/";
    public const string JobPathPrefix = "/org/localmigrate1/job/";
    public const string PeerPath = "/org/localmigrate1/peer";
    public const string ManagerInterface = "org.localmigrate1.Manager";
    public const string DomainInterface = "org.localmigrate1.Domain";
    public const string JobInterface = "org.localmigrate1.Job";
    public const string PeerInterface = "org.localmigrate1.Peer";
    public const string PropertiesInterface = "org.freedesktop.DBus.Properties";
    public const string ObjectManagerInterface = "org.freedesktop.DBus.ObjectManager";
    public const string IntrospectableInterface = "org.freedesktop.DBus.Introspectable";

    /// <summary>Every interface of the API, for dispatch and for the introspection test.</summary>
    public static IReadOnlyList<BusInterfaceContract> Interfaces => [ManagerContract.Interface, DomainContract.Interface, JobContract.Interface, PeerContract.Interface];

    /// <summary>Errors are D-Bus error names under this prefix.</summary>
    public static class Errors
    {
        public const string AccessDenied = "org.localmigrate1.Error.AccessDenied";
        public const string NoSuchDomain = "org.localmigrate1.Error.NoSuchDomain";
        public const string NoSuchJob = "org.localmigrate1.Error.NoSuchJob";
        public const string InvalidArgument = "org.localmigrate1.Error.InvalidArgument";
        public const string InvalidDefinition = "org.localmigrate1.Error.InvalidDefinition";
        public const string Exists = "org.localmigrate1.Error.Exists";
        public const string Busy = "org.localmigrate1.Error.Busy";
        public const string StartFailed = "org.localmigrate1.Error.StartFailed";
        public const string StateWriteFailed = "org.localmigrate1.Error.StateWriteFailed";
        public const string Failed = "org.localmigrate1.Error.Failed";

        /// <summary>A destination's pre-flight refused an incoming migration (Peer.Prepare).</summary>
        public const string Refused = "org.localmigrate1.Error.Refused";
    }

    /// <summary>The standard errors the daemon answers with, as sd-bus did (D-Bus specification, "Message Bus Messages").</summary>
    public static class StandardErrors
    {
        public const string UnknownObject = "org.freedesktop.DBus.Error.UnknownObject";
        public const string UnknownInterface = "org.freedesktop.DBus.Error.UnknownInterface";
        public const string UnknownMethod = "org.freedesktop.DBus.Error.UnknownMethod";
        public const string UnknownProperty = "org.freedesktop.DBus.Error.UnknownProperty";
        public const string PropertyReadOnly = "org.freedesktop.DBus.Error.PropertyReadOnly";
        public const string InvalidArgs = "org.freedesktop.DBus.Error.InvalidArgs";
        public const string AccessDenied = "org.freedesktop.DBus.Error.AccessDenied";
        public const string ServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown";
        public const string NameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner";
        public const string NoReply = "org.freedesktop.DBus.Error.NoReply";
    }

    /// <summary>Values of Domain.State.</summary>
    public static class DomainStates
    {
        public const string Shutoff = "shutoff";
        public const string Starting = "starting";
        public const string Running = "running";
        public const string Paused = "paused";
        public const string Stopping = "stopping";
        public const string Crashed = "crashed";

        /// <summary>A QEMU runs but does not answer on QMP: never killed, never adopted, start refused.</summary>
        public const string Unreachable = "unreachable";

        /// <summary>A QEMU of the domain runs but its definition cannot be read.</summary>
        public const string Orphaned = "orphaned";

        public static IReadOnlyList<string> All => [Shutoff, Starting, Running, Paused, Stopping, Crashed, Unreachable, Orphaned];
    }

    /// <summary>Status of each entry of Domain.ListSnapshots: how the daemon's record agrees with the images.</summary>
    public static class SnapshotStatuses
    {
        /// <summary>Recorded, and every recorded image holds it.</summary>
        public const string Ok = "ok";

        /// <summary>Recorded, but missing from at least one recorded image (deleted behind the daemon's back).</summary>
        public const string Missing = "missing";

        /// <summary>In an image, never recorded by the daemon (taken with qemu-img, say).</summary>
        public const string Untracked = "untracked";

        public static IReadOnlyList<string> All => [Ok, Missing, Untracked];
    }

    /// <summary>Values of Job.State.</summary>
    public static class JobStates
    {
        public const string Running = "running";
        public const string Completed = "completed";
        public const string Failed = "failed";
        public const string Cancelled = "cancelled";

        public static IReadOnlyList<string> All => [Running, Completed, Failed, Cancelled];
    }

    /// <summary>Values of Job.Kind.</summary>
    public static class JobKinds
    {
        public const string Local = "local";
        public const string Upgrade = "upgrade";
        public const string Remote = "remote";

        public static IReadOnlyList<string> All => [Local, Upgrade, Remote];
    }

    /// <summary>Values of Job.Transfer.</summary>
    public static class Transfers
    {
        /// <summary>The guest ran during the copy (pre-copy, QEMU's live migration).</summary>
        public const string Live = "live";

        /// <summary>The guest was paused for the whole copy (option pauseGuest, or QEMU before 9.0 under TCG).</summary>
        public const string Paused = "paused";
    }

    /// <summary>Values of Job.ConvergeAction.</summary>
    public static class ConvergeActions
    {
        public const string None = "";

        /// <summary>convergePolicy cancel: the job failed, the guest runs on at the source.</summary>
        public const string Cancel = "cancel";

        /// <summary>convergePolicy postcopy: switched to postcopy.</summary>
        public const string Postcopy = "postcopy";

        /// <summary>convergePolicy pause: QEMU stopped the guest to copy the rest.</summary>
        public const string Pause = "pause";

        /// <summary>Domain.StartPostcopy switched it to postcopy.</summary>
        public const string ManualPostcopy = "manual-postcopy";

        public static IReadOnlyList<string> All => [None, Cancel, Postcopy, Pause, ManualPostcopy];
    }

    /// <summary>Values of Job.Phase: libvirt's five migration phases, in order.</summary>
    public static class JobPhases
    {
        public static IReadOnlyList<string> All => ["Begin", "Prepare", "Perform", "Finish", "Confirm"];
    }

    /// <summary>Keys of the a{sv} options of Domain.Migrate and Manager.Upgrade.</summary>
    public static class MigrateOptions
    {
        public const string TargetBinary = "targetBinary";
        public const string MaxBandwidth = "maxBandwidth";
        public const string DowntimeLimitMs = "downtimeLimitMs";
        public const string IgnoreShared = "ignoreShared";
        public const string TimeoutSeconds = "timeoutSeconds";

        /// <summary>multifd channels, type u. Salt: parallel_connections.</summary>
        public const string ParallelConnections = "parallelConnections";

        /// <summary>Type b; compress with compMethods (default mt). Salt: compressed.</summary>
        public const string Compressed = "compressed";

        /// <summary>"mt", "xbzrle" (type s, comma-separated, or as). Salt: comp_methods.</summary>
        public const string CompMethods = "compMethods";

        /// <summary>mt's algorithm: "zstd" (default) or "zlib", type s.</summary>
        public const string CompMtAlgorithm = "compMtAlgorithm";

        /// <summary>Type u. Salt: comp_mt_level.</summary>
        public const string CompMtLevel = "compMtLevel";

        /// <summary>Type u; multifd compresses per channel, so this is the channel count. Salt: comp_mt_threads.</summary>
        public const string CompMtThreads = "compMtThreads";

        /// <summary>MiB, type t. Salt: comp_xbzrle_cache.</summary>
        public const string CompXbzrleCacheMiB = "compXbzrleCacheMiB";

        /// <summary>Type b. Salt: postcopy.</summary>
        public const string Postcopy = "postcopy";

        /// <summary>Bytes per second in postcopy, type t. Salt: postcopy_bandwidth (MiB/s).</summary>
        public const string PostcopyBandwidth = "postcopyBandwidth";

        /// <summary>Type b. Salt: auto_converge.</summary>
        public const string AutoConverge = "autoConverge";

        /// <summary>Remote only, type b. Salt: live (inverted).</summary>
        public const string Offline = "offline";

        /// <summary>Remote only, type b. Salt: persistent.</summary>
        public const string Persistent = "persistent";

        /// <summary>Remote only, type b. Salt: undefinesource.</summary>
        public const string UndefineSource = "undefineSource";

        /// <summary>"cancel" (default), "postcopy" or "pause", type s.</summary>
        public const string ConvergePolicy = "convergePolicy";

        /// <summary>Type b: true keeps the guest paused for the whole transfer (non-live), false copies it live even where that
        /// is unsafe (QEMU before 9.0 under TCG). Default: paused only there.</summary>
        public const string PauseGuest = "pauseGuest";

        /// <summary>Remote only, type s: "none" (default: disks on shared storage), "all" (every disk not shared or
        /// read-only is copied), "inc" (only the top layer: the backing files are on the destination). Salt: copy_storage.</summary>
        public const string CopyStorage = "copyStorage";

        /// <summary>Passes in a row with the expected downtime above the limit before the policy acts, type u.</summary>
        public const string ConvergePasses = "convergePasses";

        /// <summary>Seconds after which a migration still running counts as not converging, type u.</summary>
        public const string ConvergeTimeoutSeconds = "convergeTimeoutSeconds";

        /// <summary>Salt's virt.migrate names, accepted as aliases of the keys above (a few in other units).</summary>
        public static class Salt
        {
            /// <summary>Inverse of offline.</summary>
            public const string Live = "live";

            /// <summary>MiB/s (maxBandwidth is bytes/s).</summary>
            public const string MaxBandwidth = "max_bandwidth";

            /// <summary>Milliseconds (downtimeLimitMs).</summary>
            public const string MaxDowntime = "max_downtime";

            public const string ParallelConnections = "parallel_connections";
            public const string CompMethods = "comp_methods";
            public const string CompMtLevel = "comp_mt_level";
            public const string CompMtThreads = "comp_mt_threads";

            /// <summary>MiB.</summary>
            public const string CompXbzrleCache = "comp_xbzrle_cache";

            /// <summary>MiB/s (postcopyBandwidth is bytes/s).</summary>
            public const string PostcopyBandwidth = "postcopy_bandwidth";

            public const string AutoConverge = "auto_converge";
            public const string UndefineSource = "undefinesource";
            public const string CopyStorage = "copy_storage";
        }

        /// <summary>Values of convergePolicy.</summary>
        public static class ConvergePolicies
        {
            public const string Cancel = "cancel";
            public const string Postcopy = "postcopy";
            public const string Pause = "pause";

            public static IReadOnlyList<string> All => [Cancel, Postcopy, Pause];
        }

        /// <summary>Manager.Upgrade only: how many migrations run at once.</summary>
        public const string Parallel = "parallel";
    }

    /// <summary>
    /// The object path of a domain: its name escaped like sd_bus_path_encode(3) (every byte outside
    /// [A-Za-z0-9] as _xx), so any valid domain name is a valid path element.
    /// </summary>
    public static string DomainPath(string name) => DomainPathPrefix + EscapeLabel(name);

    public static string JobPath(string id) => JobPathPrefix + EscapeLabel(id);

    public static string EscapeLabel(string label)
    {
        if (label.Length == 0)
            return "_";
        var sb = new System.Text.StringBuilder(label.Length * 2);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(label))
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' && !(sb.Length == 0 && b is >= (byte)'0' and <= (byte)'9'))
                sb.Append((char)b);
            else
                sb.Append('_').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
