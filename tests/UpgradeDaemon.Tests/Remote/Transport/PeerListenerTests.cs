using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LocalMigrate.UpgradeDaemon.Remote.Transport;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

/// <summary>The peer listener and connector over real loopback sockets, with a real test CA made by openssl.</summary>
public sealed class PeerListenerTests(ITestOutputHelper output, TestPki pki) : IClassFixture<TestPki>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TestPki _pki = pki;
    private readonly RecordingLogger _log = new(output);
    private readonly List<PeerIdentity> _admitted = [];

    [Fact]
    public async Task ConnectAsync_TrustedClientWithAllowedDn_AdmittedWithItsDnAndBytesFlowBothWays()
    {
        // The allow-list spells the DN with a space and lower-case type: still the same name.
        await using var listener = StartTls(_pki.HostDirectory, ["cn=hostA, O=LocalMigrate"]);

        await using var stream = await Connector(_pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout);
        await stream.WriteAsync("ping\n"u8.ToArray());
        Assert.Equal("PING\n", await ReadLineAsync(stream));

        var peer = Assert.Single(_admitted);
        Assert.Equal(TestPki.AllowedClientDn, peer.ClientDn);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)peer.RemoteEndPoint).Address);
    }

    [Fact]
    public async Task ConnectAsync_ClientDnNotAllowed_RefusedAndListenerLogsTheDn()
    {
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn]);

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() =>
            Connector(_pki.RogueClientDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout));

        Assert.Contains("refused this host's client certificate 'CN=rogue, O=LocalMigrate'", e.Message);
        Assert.Contains($"127.0.0.1:{listener.LocalEndPoint.Port}", e.Message);
        await AssertRefusalLoggedAsync(TestPki.RogueClientDn, "not in remote.allowedClientDns");
        Assert.Empty(_admitted);
    }

    [Fact]
    public async Task ConnectAsync_ClientCertificateFromAnotherCa_RefusedAndListenerLogsTheChainError()
    {
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn]);

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() =>
            Connector(_pki.OtherCaDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout));

        Assert.Contains("refused this host's client certificate", e.Message);
        await AssertRefusalLoggedAsync("issued by 'CN=Other CA, O=LocalMigrate Test'", "chain:");
        Assert.Empty(_admitted);
    }

    [Fact]
    public async Task ConnectAsync_NoClientCertificate_RefusedAndListenerLogsThatNoneCame()
    {
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn]);

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() =>
            Connector(_pki.NoClientCertificateDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout));

        Assert.Contains("presented no client certificate", e.Message);
        await AssertRefusalLoggedAsync("(none)", "no certificate presented");
        Assert.Empty(_admitted);
    }

    [Fact]
    public async Task ConnectAsync_ServerCertificateFromAnotherCa_ConnectorRejectsItNamingTheChainError()
    {
        await using var listener = StartTls(_pki.OtherCaHostDirectory, [TestPki.AllowedClientDn]);

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() =>
            Connector(_pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout));

        Assert.Contains("server certificate was rejected", e.Message);
        Assert.Contains("issued by 'CN=Other CA, O=LocalMigrate Test'", e.Message);
        Assert.Contains("chain:", e.Message);
        Assert.Empty(_admitted);
    }

    [Fact]
    public async Task ConnectAsync_ServerCertificateDoesNotNameTheHost_ConnectorRejectsItNamingWhatItNames()
    {
        // 127.0.0.2 is loopback too, but the server certificate names only 127.0.0.1 and localhost.
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn], IPAddress.Parse("127.0.0.2"));

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() =>
            Connector(_pki.HostDirectory).ConnectAsync("127.0.0.2", listener.LocalEndPoint.Port).WaitAsync(Timeout));

        Assert.Contains("does not name 127.0.0.2", e.Message);
        Assert.Contains("it names localhost, 127.0.0.1, ::1", e.Message);
    }

    [Fact]
    public async Task ConnectAsync_ByDnsNameInSubjectAltName_Admitted()
    {
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn]);

        await using var stream = await Connector(_pki.HostDirectory).ConnectAsync("localhost", listener.LocalEndPoint.Port).WaitAsync(Timeout);
        await stream.WriteAsync("dns\n"u8.ToArray());

        Assert.Equal("DNS\n", await ReadLineAsync(stream));
    }

    [Fact]
    public async Task ConnectAsync_Ipv6LiteralInBracketsAsAUriHasIt_AdmittedAndServerNameChecked()
    {
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn], IPAddress.IPv6Loopback);

        await using var stream = await Connector(_pki.HostDirectory).ConnectAsync("[::1]", listener.LocalEndPoint.Port).WaitAsync(Timeout);
        await stream.WriteAsync("v6\n"u8.ToArray());

        Assert.Equal("V6\n", await ReadLineAsync(stream));
        Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)Assert.Single(_admitted).RemoteEndPoint).Address);
    }

    [Fact]
    public async Task ConnectAsync_TcpMode_AdmittedWithoutDnAndBytesFlow()
    {
        await using var listener = PeerListener.Start(new PeerListenerSettings { Mode = PeerTransportMode.Tcp, EndPoint = new(IPAddress.Loopback, 0) },
            EchoUpperAsync, _log);

        await using var stream = await new PeerConnector(PeerTransportMode.Tcp, "/nonexistent").ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port)
            .WaitAsync(Timeout);
        await stream.WriteAsync("plain\n"u8.ToArray());

        Assert.Equal("PLAIN\n", await ReadLineAsync(stream));
        Assert.Null(Assert.Single(_admitted).ClientDn);
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ConnectionRefusedNamingHostAndPort()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() => Connector(_pki.HostDirectory).ConnectAsync("127.0.0.1", port).WaitAsync(Timeout));

        Assert.Equal(("127.0.0.1", port), (e.Host, e.Port));
        Assert.Contains($"127.0.0.1:{port}: connection refused", e.Message);
    }

    [Fact]
    public async Task ConnectAsync_ServerThatAcceptsButNeverSpeaksTls_TimesOutNamingThePhase()
    {
        using var mute = new TcpListener(IPAddress.Loopback, 0);
        mute.Start();
        int port = ((IPEndPoint)mute.LocalEndpoint).Port;

        var e = await Assert.ThrowsAsync<PeerConnectionException>(() =>
            new PeerConnector(PeerTransportMode.Tls, _pki.HostDirectory, TimeSpan.FromSeconds(1)).ConnectAsync("127.0.0.1", port).WaitAsync(Timeout));

        Assert.Contains($"127.0.0.1:{port}: no answer within 1 s during tls", e.Message);
    }

    [Fact]
    public async Task Accept_PeerThatNeverHandshakes_DroppedAtTheDeadlineWhileOthersGetIn()
    {
        await using var listener = PeerListener.Start(new PeerListenerSettings
        {
            Mode = PeerTransportMode.Tls, EndPoint = new(IPAddress.Loopback, 0), PkiDirectory = _pki.HostDirectory,
            AllowedClientDns = [TestPki.AllowedClientDn], HandshakeTimeout = TimeSpan.FromSeconds(2),
        }, EchoUpperAsync, _log);
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, listener.LocalEndPoint.Port);

        // The silent peer holds its connection; a good one is still let in at once.
        await using (var stream = await Connector(_pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout))
        {
            await stream.WriteAsync("x\n"u8.ToArray());
            Assert.Equal("X\n", await ReadLineAsync(stream));
        }

        await AssertRefusalLoggedAsync("(none)", "no handshake within 2 s");
        // And the listener closed it: the silent peer reads end of stream.
        var buffer = new byte[16];
        Assert.Equal(0, await silent.GetStream().ReadAsync(buffer).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Accept_MorePendingHandshakesThanAllowed_ExtraClosedAtOnceAndLetInOnceTheSlotFrees()
    {
        await using var listener = PeerListener.Start(new PeerListenerSettings
        {
            Mode = PeerTransportMode.Tls, EndPoint = new(IPAddress.Loopback, 0), PkiDirectory = _pki.HostDirectory,
            AllowedClientDns = [TestPki.AllowedClientDn], HandshakeTimeout = TimeSpan.FromSeconds(3), MaxPendingHandshakes = 1,
        }, EchoUpperAsync, _log);
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, listener.LocalEndPoint.Port);

        // The only slot is held (the backlog hands connections out in order): this one is closed without a handshake.
        await Assert.ThrowsAsync<PeerConnectionException>(() =>
            Connector(_pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout));
        await AssertRefusalLoggedAsync("(none)", "1 other connections are still in their handshake");

        await AssertRefusalLoggedAsync("(none)", "no handshake within 3 s");
        await using var stream = await Connector(_pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout);
        await Poll.UntilAsync(() => _admitted.Count == 1, Timeout, "the handler called for the peer let in");
    }

    [Fact]
    public async Task DisposeAsync_HandlerStillRunning_CancelsItsTokenAndWaitsForIt()
    {
        var handlerEnded = new TaskCompletionSource();
        var listener = PeerListener.Start(new PeerListenerSettings { Mode = PeerTransportMode.Tcp, EndPoint = new(IPAddress.Loopback, 0) },
            async (_, _, token) =>
            {
                try
                {
                    await Task.Delay(System.Threading.Timeout.Infinite, token);
                }
                finally
                {
                    handlerEnded.SetResult();
                }
            }, _log);
        await using var stream = await new PeerConnector(PeerTransportMode.Tcp, "/nonexistent").ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port)
            .WaitAsync(Timeout);

        await listener.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.True(handlerEnded.Task.IsCompleted);
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(Timeout));
        Assert.Throws<SocketException>(() => new TcpClient().Connect(IPAddress.Loopback, listener.LocalEndPoint.Port));
    }

    [Fact]
    public void Start_PkiDirectoryWithoutServerCertificate_PeerPkiExceptionNamingTheFile()
    {
        var e = Assert.Throws<PeerPkiException>(() => StartTls(_pki.NoClientCertificateDirectory, [TestPki.AllowedClientDn]));

        Assert.Contains(Path.Combine(_pki.NoClientCertificateDirectory, "server-cert.pem"), e.Message);
    }

    [Fact]
    public void Start_AllowedDnMalformed_FormatExceptionNamingIt()
    {
        var e = Assert.Throws<FormatException>(() => StartTls(_pki.HostDirectory, ["CN=hostA,"]));

        Assert.Contains("'CN=hostA,'", e.Message);
    }

    /// <summary>Measures the admission of one peer (TCP connect + mutual TLS + DN check + admission byte), for the benchmark table.</summary>
    [Fact]
    public async Task ConnectAsync_TwentyTlsHandshakes_EachAdmittedAndTimed()
    {
        await using var listener = StartTls(_pki.HostDirectory, [TestPki.AllowedClientDn]);
        var connector = Connector(_pki.HostDirectory);
        var times = new List<double>();
        for (int i = 0; i < 21; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var stream = await connector.ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Timeout);
            if (i > 0) // the first pays for JIT and OpenSSL's initialisation
                times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        output.WriteLine($"TLS admission over loopback: median {times[times.Count / 2]:0.00} ms, min {times[0]:0.00} ms, max {times[^1]:0.00} ms (n={times.Count})");
        await Poll.UntilAsync(() => _admitted.Count == 21, Timeout, "21 admitted peers");
    }

    private PeerListener StartTls(string pkiDirectory, string[] allowed, IPAddress? address = null) =>
        PeerListener.Start(new PeerListenerSettings
        {
            Mode = PeerTransportMode.Tls, EndPoint = new(address ?? IPAddress.Loopback, 0), PkiDirectory = pkiDirectory, AllowedClientDns = allowed,
        }, EchoUpperAsync, _log);

    private static PeerConnector Connector(string pkiDirectory) => new(PeerTransportMode.Tls, pkiDirectory);

    // The handler: records who came, then echoes every line upper-cased until the peer closes.
    private async Task EchoUpperAsync(Stream stream, PeerIdentity peer, CancellationToken cancellationToken)
    {
        lock (_admitted)
            _admitted.Add(peer);
        var buffer = new byte[256];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var upper = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(buffer, 0, read).ToUpperInvariant());
            await stream.WriteAsync(upper, cancellationToken);
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (!line.ToString().EndsWith('\n'))
        {
            Assert.Equal(1, await stream.ReadAsync(one).AsTask().WaitAsync(Timeout));
            line.Append((char)one[0]);
        }
        return line.ToString();
    }

    private Task AssertRefusalLoggedAsync(string dn, string reason) =>
        Poll.UntilAsync(() => _log.Lines.Any(l => l.Level == LogLevel.Warning && l.Message.Contains("refused") && l.Message.Contains(dn)
            && l.Message.Contains(reason)), Timeout, $"a refusal logged naming '{dn}' and '{reason}'");
}
