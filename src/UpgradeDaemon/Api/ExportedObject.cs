using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// An object on the bus and the values of its changing properties as last announced. <see cref="TakeChanges"/>
/// compares them with the current ones, so every property the introspection marks as changing is announced
/// whenever it changed, whatever engine event caused the change.
/// </summary>
internal sealed class ExportedObject(string path, ExportedInterface exported)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, VariantValue> _announced = new(StringComparer.Ordinal);

    public string Path => path;

    public ExportedInterface Interface => exported;

    /// <summary>Remembers the current values as announced (the object was just exported: InterfacesAdded carries them).</summary>
    public void MarkAnnounced() => Announce(static (_, _) => { });

    /// <summary>
    /// Calls <paramref name="send"/> with the properties whose value changed since the last call (with their value, or
    /// only named for an invalidating property), under the object's lock, so two announcements never overtake each other.
    /// </summary>
    public void Announce(Action<List<KeyValuePair<string, VariantValue>>, List<string>> send)
    {
        var changed = new List<KeyValuePair<string, VariantValue>>();
        var invalidated = new List<string>();
        lock (_gate)
        {
            foreach (var property in exported.Contract.Properties)
            {
                if (property.Emits == PropertyEmits.Const)
                    continue;
                var value = exported.Read(property);
                if (_announced.TryGetValue(property.Name, out var before) && before.Equals(value))
                    continue;
                var first = !_announced.ContainsKey(property.Name);
                _announced[property.Name] = value;
                if (first)
                    continue;
                if (property.Emits == PropertyEmits.Invalidates)
                    invalidated.Add(property.Name);
                else
                    changed.Add(new(property.Name, value));
            }
            if (changed.Count + invalidated.Count > 0)
                send(changed, invalidated);
        }
    }
}
