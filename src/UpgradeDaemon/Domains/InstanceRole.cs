namespace LocalMigrate.UpgradeDaemon.Domains;

public enum InstanceRole
{
    /// <summary>The instance every caller sees: the one the guest runs on.</summary>
    Active,

    /// <summary>A migration target waiting for (or receiving) the guest; lives in the shadow registry.</summary>
    Incoming,
}
