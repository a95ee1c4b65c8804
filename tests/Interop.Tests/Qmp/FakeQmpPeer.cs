using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace LocalMigrate.Interop.Tests.Qmp;

/// <summary>
/// A scripted stand-in for QEMU's QMP server on a unix socket in its own temp dir. Each test drives
/// it step by step: accept, send lines, receive the client's requests, reply, close.
/// </summary>
internal sealed class FakeQmpPeer : IAsyncDisposable
{
    public const string Greeting =
        """{"QMP": {"version": {"qemu": {"micro": 3, "minor": 2, "major": 7}, "package": "Debian test"}, "capabilities": ["oob"]}}""";

    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(5);
    private readonly Socket _listener;
    private Socket? _connection;
    private NetworkStream? _stream;

    private FakeQmpPeer(string socketPath)
    {
        SocketPath = socketPath;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        // Listening from construction on, so a client can connect before the test calls AcceptAsync.
        _listener.Listen(4);
    }

    public string SocketPath { get; }

    /// <summary>A fresh path in a new temp dir, with nothing bound to it yet.</summary>
    public static string NewSocketPath() =>
        Path.Combine(Directory.CreateTempSubdirectory("lm-qmp-").FullName, "qmp.sock");

    public static FakeQmpPeer Start(string? socketPath = null) => new(socketPath ?? NewSocketPath());

    public async Task AcceptAsync()
    {
        _connection = await _listener.AcceptAsync().WaitAsync(StepTimeout);
        _stream = new NetworkStream(_connection, ownsSocket: false);
    }

    /// <summary>Accept, greet, expect qmp_capabilities and accept it: what QEMU does.</summary>
    public async Task HandshakeAsync(string greeting = Greeting)
    {
        await AcceptAsync();
        await SendAsync(greeting);
        JsonObject request = await ReceiveAsync();
        Assert.Equal("qmp_capabilities", (string?)request["execute"]);
        await ReplyAsync(request, "{}");
    }

    /// <summary>Sends one message with QEMU's "\r\n" terminator.</summary>
    public Task SendAsync(string json) => SendRawAsync(json + "\r\n");

    public async Task SendRawAsync(string text) =>
        await Stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask().WaitAsync(StepTimeout);

    public Task ReplyAsync(JsonObject request, string returnJson) =>
        SendAsync($$"""{"return": {{returnJson}}, "id": {{request["id"]!.ToJsonString()}}}""");

    public Task SendEventAsync(string name, string? dataJson = null) =>
        SendAsync($$"""{"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "{{name}}"{{(dataJson is null ? "" : $", \"data\": {dataJson}")}}}""");

    /// <summary>The client's next request, parsed; fails the test if it is not a JSON object.</summary>
    public async Task<JsonObject> ReceiveAsync()
    {
        string request = await ReceiveRequestTextAsync() ?? throw new EndOfStreamException("client closed the connection");
        return JsonNode.Parse(request)!.AsObject();
    }

    /// <summary>The next request's raw text, read as QEMU reads it (up to its closing brace), or null once the client has closed the connection.</summary>
    public async Task<string?> ReceiveRequestTextAsync()
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        return await QmpRequestScanner.ReadAsync(Stream, timeout.Token);
    }

    /// <summary>
    /// Waits for the client to close its end, seen as end of stream, or as a reset when the client
    /// closed with our bytes still unread. Fails the test if the client sends anything instead.
    /// </summary>
    public async Task AssertClientClosedAsync()
    {
        try
        {
            Assert.Null(await ReceiveRequestTextAsync());
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }
    }

    public void CloseConnection()
    {
        _connection?.Shutdown(SocketShutdown.Both);
        _connection?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }
        _connection?.Dispose();
        _listener.Dispose();
        Directory.Delete(Path.GetDirectoryName(SocketPath)!, recursive: true);
    }

    private NetworkStream Stream => _stream ?? throw new InvalidOperationException("not accepted");
}
