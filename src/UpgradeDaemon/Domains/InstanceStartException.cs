namespace LocalMigrate.UpgradeDaemon.Domains;

public sealed class InstanceStartException(string domain, string reason)
    : Exception($"domain {domain}: cannot start QEMU: {reason}")
{
    public string Domain { get; } = domain;
}
