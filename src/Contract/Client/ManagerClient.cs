using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Typed calls of <see cref="ManagerContract"/>.</summary>
public readonly struct ManagerClient(DaemonConnection connection)
{
    public Task<string> DefineAsync(string definitionJson) =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.Define, (ref MessageWriter w) => w.WriteString(definitionJson), Replies.ObjectPath);

    public Task<string> GetDomainAsync(string name) =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.GetDomain, (ref MessageWriter w) => w.WriteString(name), Replies.ObjectPath);

    public Task<string[]> ListDomainsAsync() =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.ListDomains, null, Replies.ObjectPaths);

    public Task<string[]> ListJobsAsync() =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.ListJobs, null, Replies.ObjectPaths);

    /// <returns>The paths of the jobs started, one per domain.</returns>
    public Task<string[]> UpgradeAsync(IReadOnlyList<string> names, bool staleOnly, IReadOnlyDictionary<string, VariantValue> options) =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.Upgrade, (ref MessageWriter w) =>
        {
            w.WriteArray(names);
            w.WriteBool(staleOnly);
            BusWriting.WriteVariantDictionary(ref w, options);
        }, Replies.ObjectPaths);

    /// <returns>The domains a standby target now waits for, and "name: reason" for each that has none.</returns>
    public Task<(string[] Ready, string[] Problems)> PrepareTargetsAsync(IReadOnlyList<string> names, bool staleOnly,
        IReadOnlyDictionary<string, VariantValue> options) =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.PrepareTargets, (ref MessageWriter w) =>
        {
            w.WriteArray(names);
            w.WriteBool(staleOnly);
            BusWriting.WriteVariantDictionary(ref w, options);
        }, static (m, _) =>
        {
            var reader = m.GetBodyReader();
            return (reader.ReadArrayOfString(), reader.ReadArrayOfString());
        });

    public Task SetMaintenanceAsync(bool on) =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.SetMaintenance, (ref MessageWriter w) => w.WriteBool(on));

    /// <returns>The plan, and the paths of the jobs started (one per domain; none on a dry run).</returns>
    public Task<(EvacuationPlanEntry[] Plan, string[] Jobs)> EvacuateAsync(IReadOnlyList<string> destinations, IReadOnlyDictionary<string, VariantValue> options) =>
        connection.CallAsync(BusContract.ManagerPath, ManagerContract.Evacuate, (ref MessageWriter w) =>
        {
            w.WriteArray(destinations);
            BusWriting.WriteVariantDictionary(ref w, options);
        }, static (m, _) =>
        {
            var reader = m.GetBodyReader();
            var plan = EvacuationPlanEntry.ReadArray(ref reader);
            return (plan, reader.ReadArrayOfObjectPath().Select(p => p.ToString()).ToArray());
        });

    public Task<IReadOnlyDictionary<string, VariantValue>> GetAllAsync() => connection.GetAllAsync(BusContract.ManagerPath, ManagerContract.Name);
}
