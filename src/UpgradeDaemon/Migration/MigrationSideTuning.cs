using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>What one side's QEMU is told before the migration: every capability the daemon manages (on or off) and the parameters.</summary>
public sealed record MigrationSideTuning(IReadOnlyList<MigrationCapabilityStatus> Capabilities, MigrationParameters Parameters)
{
    /// <summary>The same capabilities in the same order and the same parameters (record equality compares the list by reference).</summary>
    public bool Matches(MigrationSideTuning other) => Capabilities.SequenceEqual(other.Capabilities) && Parameters == other.Parameters;
}
