using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Typed calls of <see cref="DomainContract"/> on one domain object.</summary>
public readonly struct DomainClient(DaemonConnection connection, string path)
{
    public string Path => path;

    public Task StartAsync() => connection.CallAsync(path, DomainContract.Start);

    public Task StopAsync(bool force) => connection.CallAsync(path, DomainContract.Stop, (ref MessageWriter w) => w.WriteBool(force), Replies.None);

    /// <param name="uri">"" for a local migration.</param>
    /// <returns>The job's path; its object exists before the job begins, so subscribe to it, then read it.</returns>
    public Task<string> MigrateAsync(string uri, IReadOnlyDictionary<string, VariantValue> options) =>
        connection.CallAsync(path, DomainContract.Migrate, (ref MessageWriter w) =>
        {
            w.WriteString(uri);
            BusWriting.WriteVariantDictionary(ref w, options);
        }, Replies.ObjectPath);

    /// <returns>The path of the job the cancel went to.</returns>
    public Task<string> CancelAsync() => connection.CallAsync(path, DomainContract.Cancel, null, Replies.ObjectPath);

    /// <returns>The path of the job switched to postcopy.</returns>
    public Task<string> StartPostcopyAsync() => connection.CallAsync(path, DomainContract.StartPostcopy, null, Replies.ObjectPath);

    public Task UndefineAsync() => connection.CallAsync(path, DomainContract.Undefine);

    public Task CreateSnapshotAsync(string name, bool diskOnly) =>
        connection.CallAsync(path, DomainContract.CreateSnapshot, (ref MessageWriter w) =>
        {
            w.WriteString(name);
            w.WriteBool(diskOnly);
        }, Replies.None);

    public Task<SnapshotEntry[]> ListSnapshotsAsync() =>
        connection.CallAsync(path, DomainContract.ListSnapshots, null, static (m, _) =>
        {
            var reader = m.GetBodyReader();
            return SnapshotEntry.ReadArray(ref reader);
        });

    public Task RevertSnapshotAsync(string name) =>
        connection.CallAsync(path, DomainContract.RevertSnapshot, (ref MessageWriter w) => w.WriteString(name), Replies.None);

    public Task DeleteSnapshotAsync(string name) =>
        connection.CallAsync(path, DomainContract.DeleteSnapshot, (ref MessageWriter w) => w.WriteString(name), Replies.None);

    public Task<IReadOnlyDictionary<string, VariantValue>> GetAllAsync() => connection.GetAllAsync(path, DomainContract.Name);
}
