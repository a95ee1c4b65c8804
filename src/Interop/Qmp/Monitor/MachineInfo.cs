namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>One entry of <c>query-machines</c> (qapi/machine.json <c>MachineInfo</c>), the members the daemon reads.</summary>
/// <param name="Alias">For an alias such as q35 the alias name; <see cref="Name"/> is then the versioned type it stands for.</param>
public sealed record MachineInfo(string Name, string? Alias)
{
    public bool IsDefault { get; init; }
    public int CpuMax { get; init; }
    public bool Deprecated { get; init; }
}
