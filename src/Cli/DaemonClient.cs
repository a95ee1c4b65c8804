using LocalMigrate.Contract;
using LocalMigrate.Contract.Client;
using Tmds.DBus.Protocol;

namespace LocalMigrate.Cli;

/// <summary>
/// The CLI's view of localmigrated: the contract's typed calls (<see cref="DaemonConnection"/>), with every D-Bus
/// error turned into one clear line and an exit code.
/// </summary>
internal sealed class DaemonClient(DaemonConnection connection, CancellationToken interrupted) : IAsyncDisposable
{
    public DaemonConnection Connection => connection;

    /// <summary>Cancelled when the user presses Ctrl-C.</summary>
    public CancellationToken Interrupted => interrupted;

    public static async Task<DaemonClient> ConnectAsync(string bus, CancellationToken interrupted)
    {
        try
        {
            return new DaemonClient(await DaemonConnection.ConnectAsync(bus, interrupted).ConfigureAwait(false), interrupted);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCodes.Usage, $"--bus: {e.Message}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException(ExitCodes.DaemonNotRunning, $"cannot reach the {bus} D-Bus: {e.Message}");
        }
    }

    /// <summary>Runs one or more calls; their D-Bus errors become a <see cref="CliException"/>.</summary>
    public async Task<T> Run<T>(Func<DaemonConnection, Task<T>> calls)
    {
        try
        {
            return await calls(connection).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException e)
        {
            throw Translate(e);
        }
        catch (TimeoutException)
        {
            throw new CliException(ExitCodes.Failed, $"localmigrated did not answer within {DaemonConnection.CallTimeout.TotalSeconds:0} s");
        }
        catch (DBusConnectionException e)
        {
            throw new CliException(ExitCodes.DaemonNotRunning, $"lost the connection to the D-Bus: {e.Message}");
        }
    }

    public Task Run(Func<DaemonConnection, Task> calls) => Run(async c =>
    {
        await calls(c).ConfigureAwait(false);
        return true;
    });

    public Task<string> DomainPathAsync(string name) => Run(c => c.Manager.GetDomainAsync(name));

    public async Task<DomainInfo> DomainAsync(string name)
    {
        var path = await DomainPathAsync(name).ConfigureAwait(false);
        return DomainInfo.From(await Run(c => c.Domain(path).GetAllAsync()).ConfigureAwait(false));
    }

    public Task<IReadOnlyList<DomainInfo>> DomainsAsync() => Run<IReadOnlyList<DomainInfo>>(async c =>
    {
        var paths = await c.Manager.ListDomainsAsync().ConfigureAwait(false);
        // All at once: one round trip's latency instead of one per domain, which a loaded host makes expensive.
        var properties = await Task.WhenAll(paths.Select(p => c.Domain(p).GetAllAsync())).ConfigureAwait(false);
        return properties.Select(DomainInfo.From).ToList();
    });

    public Task<JobInfo> JobAsync(string path) => Run(async c => JobInfo.From(path, await c.Job(path).GetAllAsync().ConfigureAwait(false)));

    public Task<IReadOnlyList<JobInfo>> JobsAsync() => Run<IReadOnlyList<JobInfo>>(async c =>
    {
        var paths = await c.Manager.ListJobsAsync().ConfigureAwait(false);
        return await Task.WhenAll(paths.Select(async p => JobInfo.From(p, await c.Job(p).GetAllAsync().ConfigureAwait(false)))).ConfigureAwait(false);
    });

    private static CliException Translate(DBusErrorReplyException e) => e.ErrorName switch
    {
        BusContract.Errors.AccessDenied or BusContract.StandardErrors.AccessDenied => new CliException(ExitCodes.AccessDenied, e.ErrorMessage),
        BusContract.Errors.NoSuchDomain => new CliException(ExitCodes.NoSuchDomain, e.ErrorMessage),
        BusContract.Errors.InvalidArgument or BusContract.Errors.InvalidDefinition => new CliException(ExitCodes.Usage, e.ErrorMessage),
        BusContract.StandardErrors.ServiceUnknown or BusContract.StandardErrors.NameHasNoOwner =>
            new CliException(ExitCodes.DaemonNotRunning, "localmigrated is not running (no owner of org.localmigrate1 on this bus)"),
        _ => new CliException(ExitCodes.Failed, e.ErrorMessage),
    };

    public ValueTask DisposeAsync()
    {
        connection.Dispose();
        return ValueTask.CompletedTask;
    }
}
