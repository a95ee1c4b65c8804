namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// What one side's QEMU actually holds after the tuning, read back with query-migrate-capabilities and
/// query-migrate-parameters: the capabilities that are on, and every parameter by its QAPI name.
/// </summary>
public sealed record MigrationSideSettings(IReadOnlyList<string> Capabilities, IReadOnlyDictionary<string, string> Parameters)
{
    public static MigrationSideSettings None { get; } = new([], new Dictionary<string, string>());
}
