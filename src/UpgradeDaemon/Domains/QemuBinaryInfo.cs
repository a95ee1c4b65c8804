using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>What a QEMU binary said about itself when probed.</summary>
/// <param name="Machines">Machine type names and, for aliases such as q35, the versioned type they stand for.</param>
public sealed record QemuBinaryInfo(string Binary, string Version, string Package, IReadOnlyList<MachineInfo> Machines)
{
    /// <returns>The versioned machine type for a name or alias, or null when this binary cannot build it.</returns>
    public string? ResolveMachine(string requested)
    {
        foreach (var machine in Machines)
        {
            if (machine.Name == requested)
                return machine.Name;
        }
        foreach (var machine in Machines)
        {
            if (machine.Alias == requested)
                return machine.Name;
        }
        return null;
    }

    public bool CanBuild(string machine) => Machines.Any(m => m.Name == machine);
}
