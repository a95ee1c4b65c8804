using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Cli;

/// <summary>Typed calls to localmigrated; D-Bus errors become one clear line and an exit code.</summary>
internal sealed class DaemonClient(BusConnection bus) : IAsyncDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(120);

    public BusConnection Bus => bus;

    public static async Task<DaemonClient> ConnectAsync(string busName, CancellationToken cancellationToken)
    {
        BusAddress address;
        try
        {
            address = BusAddress.Parse(busName);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCodes.Usage, $"--bus: {e.Message}");
        }
        try
        {
            return new DaemonClient(await BusConnection.OpenAsync(address, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException(ExitCodes.DaemonNotRunning, $"cannot reach the {address} D-Bus: {e.Message}");
        }
    }

    public async Task<object[]> CallAsync(string path, string iface, string member, string signature, params object?[] args)
    {
        try
        {
            return await bus.CallAsync(BusContract.ServiceName, path, iface, member, signature, args, timeout: CallTimeout).ConfigureAwait(false);
        }
        catch (BusErrorException e)
        {
            throw Translate(e);
        }
        catch (TimeoutException e)
        {
            throw new CliException(ExitCodes.Failed, $"localmigrated did not answer: {e.Message}");
        }
    }

    public async Task<string> DomainPathAsync(string name) =>
        ((BusObjectPath)(await CallAsync(BusContract.ManagerPath, BusContract.ManagerInterface, "GetDomain", "s", name).ConfigureAwait(false))[0]).Value;

    public async Task<IReadOnlyDictionary<string, object>> GetAllAsync(string path, string iface) =>
        (IReadOnlyDictionary<string, object>)(await CallAsync(path, BusContract.PropertiesInterface, "GetAll", "s", iface).ConfigureAwait(false))[0];

    public async Task<DomainInfo> DomainAsync(string name) =>
        DomainInfo.From(await GetAllAsync(await DomainPathAsync(name).ConfigureAwait(false), BusContract.DomainInterface).ConfigureAwait(false));

    public async Task<IReadOnlyList<DomainInfo>> DomainsAsync()
    {
        var paths = (BusObjectPath[])(await CallAsync(BusContract.ManagerPath, BusContract.ManagerInterface, "ListDomains", "").ConfigureAwait(false))[0];
        // All at once: one round trip's latency instead of one per domain, which a loaded host makes expensive.
        var properties = await Task.WhenAll(paths.Select(p => GetAllAsync(p.Value, BusContract.DomainInterface))).ConfigureAwait(false);
        return properties.Select(DomainInfo.From).ToList();
    }

    public async Task<JobInfo> JobAsync(string path) =>
        JobInfo.From(path, await GetAllAsync(path, BusContract.JobInterface).ConfigureAwait(false));

    public async Task<IReadOnlyList<JobInfo>> JobsAsync()
    {
        var paths = (BusObjectPath[])(await CallAsync(BusContract.ManagerPath, BusContract.ManagerInterface, "ListJobs", "").ConfigureAwait(false))[0];
        return await Task.WhenAll(paths.Select(p => JobAsync(p.Value))).ConfigureAwait(false);
    }

    private static CliException Translate(BusErrorException e) => e.ErrorName switch
    {
        BusContract.Errors.AccessDenied or "org.freedesktop.DBus.Error.AccessDenied" => new CliException(ExitCodes.AccessDenied, e.Message),
        BusContract.Errors.NoSuchDomain => new CliException(ExitCodes.NoSuchDomain, e.Message),
        BusContract.Errors.InvalidArgument or BusContract.Errors.InvalidDefinition => new CliException(ExitCodes.Usage, e.Message),
        "org.freedesktop.DBus.Error.ServiceUnknown" or "org.freedesktop.DBus.Error.NameHasNoOwner" =>
            new CliException(ExitCodes.DaemonNotRunning, "localmigrated is not running (no owner of org.localmigrate1 on this bus)"),
        _ => new CliException(ExitCodes.Failed, e.Message),
    };

    public ValueTask DisposeAsync() => bus.DisposeAsync();
}
