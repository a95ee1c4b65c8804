using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Typed calls of <see cref="JobContract"/> on one job object.</summary>
public readonly struct JobClient(DaemonConnection connection, string path)
{
    public string Path => path;

    public Task CancelAsync() => connection.CallAsync(path, JobContract.Cancel);

    public Task<IReadOnlyDictionary<string, VariantValue>> GetAllAsync() => connection.GetAllAsync(path, JobContract.Name);
}
