using System.Collections.Concurrent;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>Exports a Job object per migration and forwards its changes as PropertiesChanged.</summary>
internal sealed class JobObjects(MigrationService migrations, CallerPolicy policy)
{
    private readonly ConcurrentDictionary<string, Task<string>> _exported = new();
    private BusConnection? _bus;

    public void Attach(BusConnection bus) => _bus = bus;

    /// <returns>The job's object path, once the object is on the bus (so a caller can subscribe before it moves).</returns>
    public Task<string> ExportAsync(MigrationJob job) => _exported.GetOrAdd(job.Id, _ => ExportNowAsync(job));

    private async Task<string> ExportNowAsync(MigrationJob job)
    {
        var bus = _bus ?? throw new InvalidOperationException("bus not attached");
        var path = BusContract.JobPath(job.Id);
        await bus.AddObjectAsync(path, JobObject.Build(job, migrations, policy)).ConfigureAwait(false);
        job.Changed += (_, names) => bus.EmitPropertiesChanged(path, BusContract.JobInterface,
            names.Where(n => n is not "Id" and not "Domain" and not "Kind").Distinct().ToArray());
        // Throttling is QEMU's: progress moves at most every MigrationSrc.ProgressInterval.
        return path;
    }
}
