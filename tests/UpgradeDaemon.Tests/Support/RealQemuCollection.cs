namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// Tests that boot real guests under TCG on this host (its own daemons, no network namespaces) run one class at a time:
/// on 2 cores, more emulated guests at once would only make each other slow. This collection runs beside
/// <see cref="HostsCollection"/> (one class of each at a time), so the suite stays within its time on 2 cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RealQemuCollection
{
    public const string Name = "real QEMU";
}
