namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// Tests that boot real guests under TCG run one class at a time: on 2 cores, parallel emulated guests
/// would only make each other slow and their timing figures meaningless.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealQemuCollection
{
    public const string Name = "real QEMU";
}
