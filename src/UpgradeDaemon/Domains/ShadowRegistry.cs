using System.Collections.Concurrent;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Incoming instances of migrations in flight, keyed by domain name: same name and uuid as the source, so they
/// must stay out of every lookup (list, status, the API) until Confirm promotes them.
/// </summary>
public sealed class ShadowRegistry
{
    private readonly ConcurrentDictionary<string, DomainInstance> _incoming = new(StringComparer.Ordinal);

    public void Register(DomainInstance instance)
    {
        if (!_incoming.TryAdd(instance.Definition.Name, instance))
            throw new InvalidOperationException($"domain {instance.Definition.Name} already has an incoming instance");
    }

    public DomainInstance? Find(string name) => _incoming.TryGetValue(name, out var instance) ? instance : null;

    public bool Unregister(DomainInstance instance) =>
        _incoming.TryRemove(new KeyValuePair<string, DomainInstance>(instance.Definition.Name, instance));

    public int Count => _incoming.Count;

    /// <summary>Rollback of a target (or a standby nobody took): killed, out of this registry, runtime dir gone.</summary>
    public async Task DiscardAsync(DomainInstance instance)
    {
        await instance.KillAsync().ConfigureAwait(false);
        Unregister(instance);
        instance.RemoveRuntimeDirectory();
        await instance.DisposeAsync().ConfigureAwait(false);
    }

    public IReadOnlyList<DomainInstance> List() => _incoming.Values.ToList();
}
