namespace LocalMigrate.Cli;

/// <summary>A Domain object's properties, as the CLI shows them.</summary>
internal sealed record DomainInfo(
    string Name, string Uuid, string State, uint Pid, string QemuBinary, string QemuVersion, string InstanceId,
    string RuntimeDirectory, bool Stale, IReadOnlyList<string> StaleReasons, string Machine, uint MemoryMiB,
    string MemoryBacking, string Job, string LastJob, string ConsoleLog)
{
    public static DomainInfo From(IReadOnlyDictionary<string, object> p) => new(
        Get<string>(p, "Name"), Get<string>(p, "Uuid"), Get<string>(p, "State"), Get<uint>(p, "Pid"),
        Get<string>(p, "QemuBinary"), Get<string>(p, "QemuVersion"), Get<string>(p, "InstanceId"),
        Get<string>(p, "RuntimeDirectory"), Get<bool>(p, "Stale"), Get<string[]>(p, "StaleReasons"),
        Get<string>(p, "Machine"), Get<uint>(p, "MemoryMiB"), Get<string>(p, "MemoryBacking"),
        p["Job"].ToString()!, p["LastJob"].ToString()!, Get<string>(p, "ConsoleLog"));

    internal static T Get<T>(IReadOnlyDictionary<string, object> properties, string name) =>
        properties.TryGetValue(name, out var value) && value is T typed
            ? typed
            : throw new CliException(ExitCodes.Failed, $"the daemon sent no {name} of type {typeof(T).Name}: is it a matching version?");
}
