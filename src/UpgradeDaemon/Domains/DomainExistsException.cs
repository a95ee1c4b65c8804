namespace LocalMigrate.UpgradeDaemon.Domains;

public sealed class DomainExistsException : Exception
{
    public DomainExistsException(string name) : base($"domain {name} already exists") => Name = name;

    public DomainExistsException(string name, Guid uuid) : base($"a domain with uuid {uuid} already exists (defining {name})") => Name = name;

    public string Name { get; }
}
