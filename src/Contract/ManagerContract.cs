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

    public static readonly BusProperty Version = new(Name, "Version", "s", PropertyEmits.Const);
    public static readonly BusProperty QemuBinary = new(Name, "QemuBinary", "s", PropertyEmits.Const);
    public static readonly BusProperty MaxParallelMigrations = new(Name, "MaxParallelMigrations", "u", PropertyEmits.Const);

    public static readonly BusInterfaceContract Interface = new(Name,
        [Define, GetDomain, ListDomains, ListJobs, Upgrade],
        [Version, QemuBinary, MaxParallelMigrations]);
}
