using System.Text.Json.Serialization;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>One entry of QMP <c>query-machines</c> (qapi/machine.json MachineInfo), the fields we use.</summary>
public sealed record QemuMachineType(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("alias")] string? Alias);
