namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// Tests whose hosts are network namespaces (remote migration, storage copy, evacuation, bridged NICs, the Ansible
/// playbooks): one class at a time, beside one class of <see cref="RealQemuCollection"/>. The two share nothing but
/// the machine: every runtime dir, bus, namespace, bridge and /dev/shm file is per test.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HostsCollection
{
    public const string Name = "real QEMU, hosts in network namespaces";
}
