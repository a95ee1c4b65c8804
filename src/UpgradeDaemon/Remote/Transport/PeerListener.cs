using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// Accepts peer daemons on one port and hands each authenticated stream to a handler. TLS mode: mutual X.509, the
/// client's chain checked against <c>ca-cert.pem</c> only, then its subject DN against the allow-list. TCP mode:
/// plaintext. Every connection runs on its own task with a handshake deadline, so a slow or hostile peer never holds
/// up the accept loop or other peers.
/// <para>
/// Once a peer is let in the listener writes one byte, <see cref="AcceptedByte"/>, before the handler runs:
/// <see cref="PeerConnector"/> waits for it, so a refusal that TLS 1.3 can only report after the client's handshake
/// finished (an untrusted client certificate, a DN not allowed) reaches the caller at connect time, not as a closed
/// stream later. The handler's stream starts after that byte.
/// </para>
/// </summary>
internal sealed partial class PeerListener : IAsyncDisposable
{
    /// <summary>"Let in": the first byte a peer receives.</summary>
    public const byte AcceptedByte = 0x06;

    private readonly PeerListenerSettings _settings;
    private readonly Func<Stream, PeerIdentity, CancellationToken, Task> _handler;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Socket _socket;
    private readonly SslStreamCertificateContext? _serverCertificate;
    private readonly X509Certificate2Collection? _authorities;
    private readonly HashSet<DistinguishedName> _allowedDns;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly Task _acceptLoop;
    private long _nextConnection;
    private int _pendingHandshakes;

    private PeerListener(PeerListenerSettings settings, Func<Stream, PeerIdentity, CancellationToken, Task> handler, ILogger logger,
        TimeProvider time)
    {
        _settings = settings;
        _handler = handler;
        _logger = logger;
        _time = time;
        _allowedDns = [.. settings.AllowedClientDns.Select(DistinguishedName.Parse)];
        if (settings.Mode == PeerTransportMode.Tls)
        {
            _authorities = PeerPki.LoadCertificateAuthorities(settings.PkiDirectory);
            _serverCertificate = SslStreamCertificateContext.Create(PeerPki.LoadServerCertificate(settings.PkiDirectory), additionalCertificates: null,
                offline: true);
        }
        _socket = new Socket(settings.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.Bind(settings.EndPoint);
            _socket.Listen(64);
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new IOException($"cannot listen for peers on {settings.EndPoint} ({settings.Mode}): {e.Message}", e);
        }
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        LogListening(LocalEndPoint, settings.Mode, settings.AllowedClientDns.Count);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public PeerTransportMode Mode => _settings.Mode;

    /// <summary>The bound address and port (the real port when the settings asked for 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Binds and starts accepting. Refuses TLS without readable certificates and bad allow-list entries.</summary>
    /// <exception cref="PeerPkiException">A file of the PKI directory is missing or unreadable.</exception>
    /// <exception cref="FormatException">An allowed DN does not parse.</exception>
    /// <exception cref="IOException">The address cannot be bound.</exception>
    public static PeerListener Start(PeerListenerSettings settings, Func<Stream, PeerIdentity, CancellationToken, Task> handler, ILogger logger,
        TimeProvider? time = null) =>
        new(settings, handler, logger, time ?? TimeProvider.System);

    /// <summary>Stops accepting, cancels the handlers' token and waits for every connection to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        _stop.Dispose();
        LogStopped(LocalEndPoint);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // A connection reset before accept, or out of descriptors: the next accept may work; don't spin.
                LogAcceptFailed(e.SocketErrorCode, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            if (Interlocked.Increment(ref _pendingHandshakes) > _settings.MaxPendingHandshakes)
            {
                Interlocked.Decrement(ref _pendingHandshakes);
                LogRefused(client.RemoteEndPoint ?? new IPEndPoint(IPAddress.None, 0), "(none)",
                    $"{_settings.MaxPendingHandshakes} other connections are still in their handshake");
                client.Dispose();
                continue;
            }
            long id = Interlocked.Increment(ref _nextConnection);
            var task = Task.Run(() => ServeAsync(client));
            _connections[id] = task;
            _ = task.ContinueWith(_ => _connections.TryRemove(id, out Task? _), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        EndPoint remote = client.RemoteEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        var started = _time.GetTimestamp();
        Stream? stream;
        string? dn;
        try
        {
            (stream, dn) = await AdmitAsync(new NetworkStream(client, ownsSocket: true), remote).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHandshakes);
        }
        if (stream is null)
            return;
        await using (stream.ConfigureAwait(false))
        {
            LogAccepted(remote, dn ?? "(tcp)", _time.GetElapsedTime(started).TotalMilliseconds);
            try
            {
                await _handler(stream, new PeerIdentity(remote, dn), _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                LogHandlerFailed(e, remote, dn ?? "(tcp)");
            }
        }
    }

    // The handshake and the checks, under one deadline. Null stream: refused (and already closed).
    private async Task<(Stream? Stream, string? Dn)> AdmitAsync(Stream network, EndPoint remote)
    {
        using var deadline = new CancellationTokenSource(_settings.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _stop.Token);
        Stream stream = network;
        string? dn = null;
        string? certificateProblem = null;
        try
        {
            // The admission byte and the peer protocol's small messages must not wait for Nagle.
            ((NetworkStream)network).Socket.NoDelay = true;
            if (_settings.Mode == PeerTransportMode.Tls)
            {
                var ssl = new SslStream(network, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _serverCertificate,
                    ClientCertificateRequired = true,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    CertificateChainPolicy = PeerPki.ChainPolicy(_authorities!, PeerPki.ClientAuth),
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    {
                        if (errors == SslPolicyErrors.None)
                            return true;
                        certificateProblem = PeerCertificateCheck.Describe(errors, certificate, chain);
                        return false;
                    },
                }, linked.Token).ConfigureAwait(false);
                var subject = DistinguishedName.FromCertificate((X509Certificate2)ssl.RemoteCertificate!);
                dn = subject.ToString();
                if (!_allowedDns.Contains(subject))
                {
                    LogRefused(remote, dn, "its subject DN is not in remote.allowedClientDns");
                    await stream.DisposeAsync().ConfigureAwait(false);
                    return (null, dn);
                }
            }
            await stream.WriteAsync(new[] { AcceptedByte }, linked.Token).ConfigureAwait(false);
            await stream.FlushAsync(linked.Token).ConfigureAwait(false);
            return (stream, dn);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // AuthenticationException, IOException, SocketException mostly; anything else refuses this peer, never the listener.
            LogRefused(remote, dn ?? "(none)", certificateProblem ?? $"TLS handshake failed: {e.Message}");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            LogRefused(remote, dn ?? "(none)", $"no handshake within {_settings.HandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        await stream.DisposeAsync().ConfigureAwait(false);
        return (null, dn);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for peers on {EndPoint} ({Mode}, {AllowedCount} client DNs allowed)")]
    private partial void LogListening(IPEndPoint endPoint, PeerTransportMode mode, int allowedCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped listening for peers on {EndPoint}")]
    private partial void LogStopped(IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Remote} let in as {Dn} after {HandshakeMs:0.0} ms")]
    private partial void LogAccepted(EndPoint remote, string dn, double handshakeMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Remote} refused (client DN {Dn}): {Reason}")]
    private partial void LogRefused(EndPoint remote, string dn, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Accepting a peer connection failed ({Error}): {Message}")]
    private partial void LogAcceptFailed(SocketError error, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "The handler of peer {Remote} ({Dn}) failed")]
    private partial void LogHandlerFailed(Exception exception, EndPoint remote, string dn);
}
