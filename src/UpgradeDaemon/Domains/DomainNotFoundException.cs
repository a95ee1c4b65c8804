namespace LocalMigrate.UpgradeDaemon.Domains;

public sealed class DomainNotFoundException(string name) : Exception($"no such domain: {name}")
{
    public string Name { get; } = name;
}
