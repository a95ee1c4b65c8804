namespace LocalMigrate.Contract;

/// <summary><c>org.localmigrate1.Manager</c> at <see cref="BusContract.ManagerPath"/>.</summary>
public static class ManagerContract
{
    public const string Name = BusContract.ManagerInterface;

    public static readonly BusMethod Define = new(Name, "Define", [new("definition", "s")], [new("domain", "o")]);
    public static readonly BusMethod GetDomain = new(Name, "GetDomain", [new("name", "s")], [new("domain", "o")]);
    public static readonly BusMethod ListDomains = new(Name, "ListDomains", [], [new("domains", "ao")]);
    public static readonly BusMethod ListJobs = new(Name, "ListJobs", [], [new("jobs", "ao")]);
    public static readonly BusMethod Upgrade = new(Name, "Upgrade",
        [new("names", "as"), new("staleOnly", "b"), new("options", "a{sv}")], [new("jobs", "ao")]);

    /// <summary>
    /// Starts a standby target QEMU for each domain named (none: every running one; <c>staleOnly</c>: those whose QEMU lags
    /// behind what is installed), for the local migration of a later Upgrade or Migrate to take instead of starting one.
    /// Options: the migration options (<c>targetBinary</c> and <c>ignoreShared</c> choose what the standby is built for).
    /// Out: the domains a standby now waits for, and "name: reason" for each that has none.
    /// </summary>
    public static readonly BusMethod PrepareTargets = new(Name, "PrepareTargets",
        [new("names", "as"), new("staleOnly", "b"), new("options", "a{sv}")], [new("ready", "as"), new("problems", "as")]);

    /// <summary>Turns this host's maintenance flag on or off (while on, Start and incoming migrations are refused).</summary>
    public static readonly BusMethod SetMaintenance = new(Name, "SetMaintenance", [new("on", "b")], []);

    /// <summary>
    /// Maintenance on, then every running domain moves live to one of <c>destinations</c> (URIs as for Migrate). Options:
    /// the migration options, <see cref="BusContract.MigrateOptions.Parallel"/> and <see cref="EvacuateOptions.DryRun"/>.
    /// Out: the plan (<see cref="EvacuationPlanEntry"/>) and one job per domain (none on a dry run).
    /// </summary>
    public static readonly BusMethod Evacuate = new(Name, "Evacuate",
        [new("destinations", "as"), new("options", "a{sv}")], [new("plan", EvacuationPlanEntry.Signature), new("jobs", "ao")]);

    public static readonly BusProperty Version = new(Name, "Version", "s", PropertyEmits.Const);
    public static readonly BusProperty QemuBinary = new(Name, "QemuBinary", "s", PropertyEmits.Const);
    public static readonly BusProperty MaxParallelMigrations = new(Name, "MaxParallelMigrations", "u", PropertyEmits.Const);
    public static readonly BusProperty Maintenance = new(Name, "Maintenance", "b", PropertyEmits.Value);

    public static readonly BusInterfaceContract Interface = new(Name,
        [Define, GetDomain, ListDomains, ListJobs, Upgrade, PrepareTargets, SetMaintenance, Evacuate],
        [Version, QemuBinary, MaxParallelMigrations, Maintenance]);

    /// <summary>Evacuate's own option keys (beside the migration options).</summary>
    public static class EvacuateOptions
    {
        /// <summary>b: only plan; nothing moves and maintenance stays as it is.</summary>
        public const string DryRun = "dryRun";
    }
}
