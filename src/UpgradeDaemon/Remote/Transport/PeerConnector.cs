using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// Opens a stream to a peer daemon's <see cref="PeerListener"/>. TLS: presents <c>client-cert.pem</c> (if the PKI
/// directory has one), trusts only <c>ca-cert.pem</c>, and requires the server certificate to name the host it was
/// asked for (DNS name or IP address in its subjectAltName). Returns once the listener has let this host in, so every
/// refusal is a <see cref="PeerConnectionException"/> here, never a stream that closes later.
/// </summary>
internal sealed class PeerConnector(PeerTransportMode mode, string pkiDirectory, TimeSpan? timeout = null, TimeProvider? time = null)
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(15);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public PeerTransportMode Mode => mode;

    /// <exception cref="PeerConnectionException">Refused, unreachable, timed out, a certificate rejected (by either side).</exception>
    /// <exception cref="PeerPkiException">This host's own CA or client certificate cannot be read.</exception>
    public async Task<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        // A URI's host keeps an IPv6 literal in brackets ([::1]); the resolver and the certificate name check want it bare.
        host = host is ['[', .., ']'] ? host[1..^1] : host;
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        X509Certificate2Collection? authorities = null;
        X509Certificate2? clientCertificate = null;
        if (mode == PeerTransportMode.Tls)
        {
            authorities = PeerPki.LoadCertificateAuthorities(pkiDirectory);
            clientCertificate = PeerPki.LoadClientCertificate(pkiDirectory);
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        string? serverProblem = null;
        string phase = "connect";
        try
        {
            await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (mode == PeerTransportMode.Tls)
            {
                phase = "tls";
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    ClientCertificateContext = clientCertificate is null ? null : SslStreamCertificateContext.Create(clientCertificate, null, offline: true),
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    CertificateChainPolicy = PeerPki.ChainPolicy(authorities!, PeerPki.ServerAuth),
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    {
                        if (errors == SslPolicyErrors.None)
                            return true;
                        serverProblem = PeerCertificateCheck.Describe(errors, certificate, chain, host);
                        return false;
                    },
                }, linked.Token).ConfigureAwait(false);
            }
            phase = "admission";
            var answer = new byte[1];
            int read = await stream.ReadAsync(answer, linked.Token).ConfigureAwait(false);
            if (read == 0)
                throw new PeerConnectionException(host, port, RefusedByPeer(clientCertificate));
            if (answer[0] != PeerListener.AcceptedByte)
                throw new PeerConnectionException(host, port, $"the peer answered 0x{answer[0]:x2}, not a LocalMigrate peer listener ({mode})");
            return stream;
        }
        catch (Exception e) when (e is not PeerConnectionException)
        {
            if (stream is null)
                socket.Dispose();
            else
                await stream.DisposeAsync().ConfigureAwait(false);
            throw e switch
            {
                OperationCanceledException when deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested =>
                    new PeerConnectionException(host, port, $"no answer within {_timeout.TotalSeconds:0.#} s during {phase} (host unreachable, port filtered, or a peer that does not speak {mode})", e),
                OperationCanceledException => e,
                SocketException s => new PeerConnectionException(host, port, Describe(s), e),
                AuthenticationException when serverProblem is not null =>
                    new PeerConnectionException(host, port, $"its server certificate was rejected: {serverProblem}", e),
                AuthenticationException or IOException when phase == "admission" =>
                    new PeerConnectionException(host, port, $"{RefusedByPeer(clientCertificate)} ({e.Message})", e),
                AuthenticationException or IOException =>
                    new PeerConnectionException(host, port, $"TLS handshake failed: {e.Message}{(e.InnerException is { } i ? " (" + i.Message + ")" : "")}", e),
                _ => e,
            };
        }
    }

    private string RefusedByPeer(X509Certificate2? clientCertificate) => mode == PeerTransportMode.Tcp
        ? "the peer closed the connection without letting this host in"
        : clientCertificate is null
            ? $"the peer refused this host: it presented no client certificate ({Path.Combine(pkiDirectory, PeerPki.ClientCertificateFile)} is missing)"
            : $"the peer refused this host's client certificate '{clientCertificate.Subject}' (untrusted by its CA or DN not in its allowedClientDns; its log says which)";

    private static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused (no peer listener on that port?)",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => $"unreachable ({e.Message})",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"host name not found ({e.Message})",
        SocketError.TimedOut => "connection timed out (host unreachable or port filtered)",
        _ => $"{e.SocketErrorCode}: {e.Message}",
    };
}
