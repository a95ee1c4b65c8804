using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>
/// A client connection to localmigrated: typed calls built from the contract's <see cref="BusMethod"/>s, so a
/// caller never spells a member name or signature. Errors arrive as <see cref="DBusErrorReplyException"/> with the
/// daemon's error name; a call that gets no answer in <see cref="CallTimeout"/> throws <see cref="TimeoutException"/>.
/// </summary>
public sealed class DaemonConnection : IDisposable
{
    private readonly DBusConnection _connection;

    private DaemonConnection(DBusConnection connection, string address)
    {
        _connection = connection;
        Address = address;
    }

    public static TimeSpan CallTimeout { get; } = TimeSpan.FromSeconds(120);

    public string Address { get; }

    public DBusConnection Bus => _connection;

    public ManagerClient Manager => new(this);

    public DomainClient Domain(string path) => new(this, path);

    public JobClient Job(string path) => new(this, path);

    public PeerClient Peer => new(this);

    /// <summary>Completes when the connection is lost (the bus went, a bridge's ssh or TLS stream broke).</summary>
    public Task Disconnected => _connection.DisconnectedAsync();

    /// <param name="bus"><c>system</c>, <c>session</c> or an address.</param>
    /// <exception cref="ArgumentException">Not a bus name or address.</exception>
    /// <exception cref="DBusConnectionException">The bus cannot be reached.</exception>
    public static async Task<DaemonConnection> ConnectAsync(string bus, CancellationToken cancellationToken = default)
    {
        var address = BusAddresses.Resolve(bus);
        var connection = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            return new DaemonConnection(connection, address);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A connection over a stream that reaches a bus through <see cref="Peer.BusBridge"/> (ssh, TLS, TCP): the library
    /// authenticates and says Hello over it as over a socket; the bridge on the far end answers the authentication.
    /// </summary>
    /// <param name="description">Names the far end in errors, e.g. "ssh://root@hostB".</param>
    public static async Task<DaemonConnection> ConnectAsync(Stream stream, string description, CancellationToken cancellationToken = default)
    {
        var connection = new DBusConnection(new StreamConnectionOptions(stream));
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            return new DaemonConnection(connection, description);
        }
        catch
        {
            connection.Dispose();
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task CallAsync(string path, BusMethod method, ArgumentWriter? arguments = null) =>
        CallAsync(path, method, arguments, Replies.None);

    public async Task<T> CallAsync<T>(string path, BusMethod method, ArgumentWriter? arguments, MessageValueReader<T> reply)
    {
        var message = Build(BusContract.ServiceName, path, method.Interface, method.Name, method.InSignature, arguments);
        return await _connection.CallMethodAsync(message, reply).WaitAsync(CallTimeout).ConfigureAwait(false);
    }

    /// <summary>org.freedesktop.DBus.Properties.GetAll of one interface.</summary>
    public async Task<IReadOnlyDictionary<string, VariantValue>> GetAllAsync(string path, string interfaceName)
    {
        var message = Build(BusContract.ServiceName, path, BusContract.PropertiesInterface, "GetAll", "s",
            (ref MessageWriter w) => w.WriteString(interfaceName));
        return await _connection.CallMethodAsync(message, static (m, _) => m.GetBodyReader().ReadDictionaryOfStringToVariantValue())
            .WaitAsync(CallTimeout).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls <paramref name="onChanged"/> with the object path of every PropertiesChanged the daemon sends under
    /// <paramref name="pathNamespace"/>. Subscribe before the call that causes the changes, or some are missed.
    /// </summary>
    /// <param name="onChanged">The object's path and the names of the properties that changed (or were invalidated).</param>
    public async Task<IDisposable> WatchPropertiesChangedAsync(string pathNamespace, Action<string, IReadOnlyCollection<string>> onChanged)
    {
        var rule = new MatchRule
        {
            Type = MessageType.Signal,
            Sender = BusContract.ServiceName,
            Interface = BusContract.PropertiesInterface,
            Member = "PropertiesChanged",
            PathNamespace = pathNamespace,
        };
        return await _connection.AddMatchAsync(rule, static (m, _) =>
            {
                var reader = m.GetBodyReader();
                reader.ReadString();
                var changed = reader.ReadDictionaryOfStringToVariantValue();
                return (Path: m.PathAsString ?? "", Names: (IReadOnlyCollection<string>)[.. changed.Keys, .. reader.ReadArrayOfString()]);
            },
            (Notification<(string Path, IReadOnlyCollection<string> Names)> n) =>
            {
                if (n.HasValue)
                    onChanged(n.Value.Path, n.Value.Names);
            }, emitOnCapturedContext: false).ConfigureAwait(false);
    }

    private MessageBuffer Build(string destination, string path, string interfaceName, string member, string signature, ArgumentWriter? arguments) =>
        BusMessages.MethodCall(_connection, destination, path, interfaceName, member, signature, arguments);

    public void Dispose() => _connection.Dispose();
}
