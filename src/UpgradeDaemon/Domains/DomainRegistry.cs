using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// The domains every caller sees, and the one place an incoming instance becomes the active one
/// (<see cref="Promote"/>): under one lock, so no reader ever sees both instances or neither.
/// </summary>
public sealed class DomainRegistry
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Domain> _domains = new(StringComparer.Ordinal);

    public ShadowRegistry Shadow { get; } = new();

    public event Action<Domain>? Changed;

    public Domain? Find(string name)
    {
        lock (_gate)
            return _domains.GetValueOrDefault(name);
    }

    public Domain Get(string name) =>
        Find(name) ?? throw new DomainNotFoundException(name);

    public Domain? FindByUuid(Guid uuid)
    {
        lock (_gate)
            return _domains.Values.FirstOrDefault(d => d.Definition.Uuid == uuid);
    }

    public IReadOnlyList<Domain> List()
    {
        lock (_gate)
            return _domains.Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every active instance: one per running domain, never a migration target.</summary>
    public IReadOnlyList<DomainInstance> ActiveInstances()
    {
        lock (_gate)
            return _domains.Values.Select(d => d.Active).OfType<DomainInstance>().ToList();
    }

    public void Add(Domain domain)
    {
        lock (_gate)
        {
            if (_domains.ContainsKey(domain.Name))
                throw new DomainExistsException(domain.Name);
            if (_domains.Values.Any(d => d.Definition.Uuid == domain.Definition.Uuid))
                throw new DomainExistsException(domain.Name, domain.Definition.Uuid);
            _domains.Add(domain.Name, domain);
        }
        Changed?.Invoke(domain);
    }

    public void Remove(Domain domain)
    {
        lock (_gate)
            _domains.Remove(domain.Name);
        Changed?.Invoke(domain);
    }

    public void SetActive(Domain domain, DomainInstance? instance, DomainState state)
    {
        lock (_gate)
        {
            domain.Active = instance;
            domain.State = state;
        }
        Changed?.Invoke(domain);
    }

    public void SetState(Domain domain, DomainState state)
    {
        lock (_gate)
            domain.State = state;
        Changed?.Invoke(domain);
    }

    /// <summary>A job takes the domain (<paramref name="job"/>) or lets go of it (null, keeping it as the last job).</summary>
    public void SetJob(Domain domain, Migration.MigrationJob? job)
    {
        lock (_gate)
        {
            if (job is null && domain.Job is { } previous)
                domain.LastJob = previous;
            domain.Job = job;
        }
        Changed?.Invoke(domain);
    }

    /// <summary>A job that ended without running here (read back from the journal after a restart) becomes the last one.</summary>
    public void SetLastJob(Domain domain, Migration.MigrationJob job)
    {
        lock (_gate)
            domain.LastJob = job;
        Changed?.Invoke(domain);
    }

    /// <summary>Names what holds the domain's lock besides a job (for busy messages), or clears it (null).</summary>
    public void SetOperation(Domain domain, string? operation)
    {
        lock (_gate)
            domain.Operation = operation;
        Changed?.Invoke(domain);
    }

    /// <summary>Tells <see cref="Changed"/> listeners that something derived from the domain changed (e.g. its staleness).</summary>
    public void NotifyChanged(Domain domain) => Changed?.Invoke(domain);

    /// <summary>Confirm's commit point: the incoming instance leaves the shadow registry and becomes the active one.</summary>
    public void Promote(Domain domain, DomainInstance incoming)
    {
        lock (_gate)
        {
            if (!Shadow.Unregister(incoming))
                throw new InvalidOperationException($"domain {domain.Name}: instance {incoming.InstanceId} is not in the shadow registry");
            domain.Active = incoming;
            domain.State = DomainState.Running;
        }
        Changed?.Invoke(domain);
    }
}
