using System.Collections.Concurrent;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Exports a Job object per migration and forwards its changes as PropertiesChanged. Ended jobs beyond the most
/// recent <see cref="Kept"/> leave the bus, as they leave <see cref="MigrationService.Jobs"/>: a host that upgrades
/// for years must not grow an object per migration forever.
/// </summary>
internal sealed class JobObjects(MigrationService migrations, CallerPolicy policy)
{
    public const int Kept = 100;
    private readonly ConcurrentDictionary<string, Lazy<Task<Exported>>> _exported = new();
    private BusConnection? _bus;

    private sealed record Exported(MigrationJob Job, string Path, IAsyncDisposable Handle);

    public void Attach(BusConnection bus) => _bus = bus;

    /// <returns>The job's object path, once the object is on the bus (so a caller can subscribe before it moves).</returns>
    public async Task<string> ExportAsync(MigrationJob job)
    {
        var exported = await _exported.GetOrAdd(job.Id, _ => new Lazy<Task<Exported>>(() => ExportNowAsync(job))).Value.ConfigureAwait(false);
        await TrimAsync().ConfigureAwait(false);
        return exported.Path;
    }

    private async Task<Exported> ExportNowAsync(MigrationJob job)
    {
        var bus = _bus ?? throw new InvalidOperationException("bus not attached");
        var path = BusContract.JobPath(job.Id);
        var handle = await bus.AddObjectAsync(path, JobObject.Build(job, migrations, policy)).ConfigureAwait(false);
        job.Changed += (_, names) => bus.EmitPropertiesChanged(path, BusContract.JobInterface,
            names.Where(n => n is not "Id" and not "Domain" and not "Kind").Distinct().ToArray());
        return new Exported(job, path, handle);
    }

    private async Task TrimAsync()
    {
        if (_exported.Count <= Kept)
            return;
        var done = _exported.Values.Where(l => l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result)
            .Where(e => e.Job.State != MigrationJobState.Running)
            .OrderBy(e => e.Job.StartedAt)
            .Take(_exported.Count - Kept)
            .ToList();
        foreach (var old in done)
        {
            if (_exported.TryRemove(old.Job.Id, out _))
                await old.Handle.DisposeAsync().ConfigureAwait(false);
        }
    }
}
