namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>Where guest RAM lives.</summary>
public enum MemoryBacking
{
    /// <summary>One named file per domain (mode 0600) that both QEMU instances map: with x-ignore-shared the RAM is not copied.</summary>
    Shared,

    /// <summary>Anonymous memory of the QEMU process: migration copies every page.</summary>
    Private,
}
