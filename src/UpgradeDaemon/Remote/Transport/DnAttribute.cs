namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>One <c>TYPE=value</c> of a distinguished name: the type in upper-case short form, the value unescaped.</summary>
internal sealed record DnAttribute(string Type, string Value);
