namespace LocalMigrate.Interop.Systemd;

/// <summary>One D-Bus interface to export on an object path; build it with <see cref="BusInterfaceBuilder"/>.</summary>
public sealed class BusInterface
{
    internal BusInterface(
        string name,
        IReadOnlyList<BusMethodDescription> methods,
        IReadOnlyList<BusPropertyDescription> properties,
        IReadOnlyList<BusSignalDescription> signals)
    {
        Name = name;
        Methods = methods;
        Properties = properties;
        Signals = signals;
        MethodsByName = methods.ToDictionary(m => m.Name, StringComparer.Ordinal);
        PropertiesByName = properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    public string Name { get; }

    public IReadOnlyList<BusMethodDescription> Methods { get; }

    public IReadOnlyList<BusPropertyDescription> Properties { get; }

    public IReadOnlyList<BusSignalDescription> Signals { get; }

    internal IReadOnlyDictionary<string, BusMethodDescription> MethodsByName { get; }

    internal IReadOnlyDictionary<string, BusPropertyDescription> PropertiesByName { get; }
}
