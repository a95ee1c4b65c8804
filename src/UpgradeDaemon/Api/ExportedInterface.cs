using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// One contract interface served on one object: a handler per method and a getter per property. Built with
/// <see cref="On"/>/<see cref="Get"/>, then <see cref="Complete"/> refuses a member of the contract left without one,
/// so the daemon cannot start serving less than the introspection promises.
/// </summary>
internal sealed class ExportedInterface(BusInterfaceContract contract)
{
    private readonly Dictionary<string, MethodHandler> _methods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<VariantValue>> _properties = new(StringComparer.Ordinal);

    public BusInterfaceContract Contract => contract;

    public ExportedInterface On(BusMethod method, MethodHandler handler)
    {
        Check(method.Interface);
        _methods.Add(method.Name, handler);
        return this;
    }

    public ExportedInterface Get(BusProperty property, Func<VariantValue> getter)
    {
        Check(property.Interface);
        _properties.Add(property.Name, getter);
        return this;
    }

    public ExportedInterface Complete()
    {
        var missing = contract.Methods.Select(m => m.Name).Where(n => !_methods.ContainsKey(n))
            .Concat(contract.Properties.Select(p => p.Name).Where(n => !_properties.ContainsKey(n))).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{contract.Name}: no implementation of {string.Join(", ", missing)}");
        return this;
    }

    public MethodHandler Handler(BusMethod method) => _methods[method.Name];

    public VariantValue Read(BusProperty property) => _properties[property.Name]();

    private void Check(string interfaceName)
    {
        if (interfaceName != contract.Name)
            throw new ArgumentException($"member of {interfaceName} added to {contract.Name}");
    }
}
