namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Describes an interface to export. Every name and signature is checked here, so mistakes surface at
/// build time instead of as -EINVAL from sd_bus_add_object_vtable(3).
/// </summary>
public sealed class BusInterfaceBuilder
{
    private readonly string _name;
    private readonly List<BusMethodDescription> _methods = [];
    private readonly List<BusPropertyDescription> _properties = [];
    private readonly List<BusSignalDescription> _signals = [];
    private readonly HashSet<string> _members = new(StringComparer.Ordinal);

    public BusInterfaceBuilder(string interfaceName)
    {
        if (!BusNames.IsValidInterface(interfaceName))
        {
            throw new ArgumentException($"'{interfaceName}' is not a valid D-Bus interface name", nameof(interfaceName));
        }

        _name = interfaceName;
    }

    /// <param name="inNames">Argument names for introspection: one per complete type in <paramref name="inSignature"/>, or none.</param>
    /// <param name="outNames">Result names: one per complete type in <paramref name="outSignature"/>, or none.</param>
    public BusInterfaceBuilder Method(
        string name,
        string inSignature,
        string outSignature,
        Func<BusMethodCall, Task<object?[]>> handler,
        IReadOnlyList<string>? inNames = null,
        IReadOnlyList<string>? outNames = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        AddMember(name);
        var ins = CheckNames(name, inSignature, inNames);
        var outs = CheckNames(name, outSignature, outNames);
        _methods.Add(new BusMethodDescription(name, inSignature, outSignature, handler, ins, outs));
        return this;
    }

    public BusInterfaceBuilder Property(string name, string signature, Func<object> getter, BusPropertyFlags flags = BusPropertyFlags.None)
    {
        ArgumentNullException.ThrowIfNull(getter);
        AddMember(name);
        if (BusSignatureParser.Split(signature).Count != 1)
        {
            throw new ArgumentException($"property {name}: '{signature}' must be one complete type", nameof(signature));
        }

        var changeFlags = flags & (BusPropertyFlags.Const | BusPropertyFlags.EmitsChange | BusPropertyFlags.EmitsInvalidation);
        if (changeFlags != 0 && (changeFlags & (changeFlags - 1)) != 0)
        {
            throw new ArgumentException($"property {name}: Const, EmitsChange and EmitsInvalidation exclude each other", nameof(flags));
        }

        _properties.Add(new BusPropertyDescription(name, signature, getter, flags));
        return this;
    }

    public BusInterfaceBuilder Signal(string name, string signature, IReadOnlyList<string>? argNames = null)
    {
        AddMember(name);
        _signals.Add(new BusSignalDescription(name, signature, CheckNames(name, signature, argNames)));
        return this;
    }

    public BusInterface Build() => new(_name, _methods.ToArray(), _properties.ToArray(), _signals.ToArray());

    private void AddMember(string name)
    {
        if (!BusNames.IsValidMember(name))
        {
            throw new ArgumentException($"'{name}' is not a valid D-Bus member name", nameof(name));
        }

        if (!_members.Add(name))
        {
            throw new ArgumentException($"{_name}.{name} is declared twice", nameof(name));
        }
    }

    private static IReadOnlyList<string> CheckNames(string member, string signature, IReadOnlyList<string>? names)
    {
        var count = BusSignatureParser.Split(signature).Count;
        if (names is null || names.Count == 0)
        {
            return [];
        }

        // sd-bus stops naming at the first empty name, so names are all-or-nothing.
        if (names.Count != count || names.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"{member}: {names.Count} argument names for signature '{signature}' ({count} arguments)");
        }

        return names.ToArray();
    }
}
