using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.Interop.Tests.Qmp;

/// <summary>The client against <see cref="FakeQmpPeer"/>, scripted per test.</summary>
public sealed class QmpClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public enum MigrationStatus { Active, PostcopyActive }

    public sealed record RamStats(long Total, long DirtyPagesRate);

    public sealed record MigrationInfo(MigrationStatus Status, long ExpectedDowntime, RamStats Ram);

    public sealed record Parameters(int DowntimeLimit, [property: JsonPropertyName("x-custom")] string Custom, string? Absent);

    private static async Task<(FakeQmpPeer Peer, QmpClient Client)> ConnectAsync(QmpClientOptions? options = null)
    {
        var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(peer.SocketPath, options);
        await peer.HandshakeAsync();
        return (peer, await connect.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ConnectAsync_ValidGreeting_ParsesVersionPackageAndCapabilities()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Assert.Equal(new QmpVersion(7, 2, 3), client.Greeting.Version);
            Assert.Equal("7.2.3", client.Greeting.Version.ToString());
            Assert.Equal("Debian test", client.Greeting.Package);
            Assert.Equal(["oob"], client.Greeting.Capabilities);
            Assert.True(client.IsConnected);
        }
    }

    [Fact]
    public async Task ConnectAsync_AfterGreeting_SendsQmpCapabilitiesFirstAndWaitsForItsReply()
    {
        await using var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(peer.SocketPath);
        await peer.AcceptAsync();
        await peer.SendAsync(FakeQmpPeer.Greeting);

        JsonObject first = await peer.ReceiveAsync();
        Assert.Equal("qmp_capabilities", (string?)first["execute"]);
        Assert.False(first.ContainsKey("arguments")); // oob is offered but deliberately not enabled
        Assert.Equal(JsonValueKind.Number, first["id"]!.GetValueKind());
        Assert.False(connect.IsCompleted);

        await peer.ReplyAsync(first, "{}");
        await using QmpClient client = await connect.WaitAsync(Timeout);
        Task<JsonElement> status = client.ExecuteAsync("query-status");
        JsonObject second = await peer.ReceiveAsync();
        Assert.Equal("query-status", (string?)second["execute"]);
        Assert.NotEqual((long)first["id"]!, (long)second["id"]!);
        await peer.ReplyAsync(second, """{"running": true}""");
        Assert.True((await status.WaitAsync(Timeout)).GetProperty("running").GetBoolean());
    }

    [Fact]
    public async Task ExecuteAsync_TypedArgumentsAndResult_UseKebabCaseAndOmitNulls()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<MigrationInfo> call = client.ExecuteAsync<MigrationInfo>(
                "query-migrate", new Parameters(DowntimeLimit: 300, Custom: "y", Absent: null));

            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("""{"downtime-limit":300,"x-custom":"y"}""", request["arguments"]!.ToJsonString());
            await peer.ReplyAsync(request,
                """{"status": "postcopy-active", "expected-downtime": 12, "ram": {"total": 100, "dirty-pages-rate": 7}}""");

            Assert.Equal(
                new MigrationInfo(MigrationStatus.PostcopyActive, 12, new RamStats(100, 7)),
                await call.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task ExecuteAsync_AnonymousObjectArguments_AreKebabCased()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<JsonElement> call = client.ExecuteAsync("migrate-set-parameters", new { DowntimeLimit = 300, MaxBandwidth = 1L << 30 });
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("""{"downtime-limit":300,"max-bandwidth":1073741824}""", request["arguments"]!.ToJsonString());
            await peer.ReplyAsync(request, "{}");
            Assert.Equal(JsonValueKind.Object, (await call.WaitAsync(Timeout)).ValueKind);
        }
    }

    [Fact]
    public async Task ExecuteAsync_JsonNodeArguments_SentAsIsAndResultOutlivesItsMessage()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<JsonElement> first = client.ExecuteAsync("query-block", new JsonObject { ["id"] = "disk_0" });
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("""{"id":"disk_0"}""", request["arguments"]!.ToJsonString());
            await peer.ReplyAsync(request, """[{"device": "disk_0", "locked": false}]""");
            JsonElement result = await first.WaitAsync(Timeout);

            // One more round trip: by now the reader loop has disposed the first reply's document,
            // so only a clone can still be read.
            Task<JsonElement> second = client.ExecuteAsync("query-status");
            await peer.ReplyAsync(await peer.ReceiveAsync(), "{}");
            await second.WaitAsync(Timeout);

            Assert.Equal("disk_0", result[0].GetProperty("device").GetString());
        }
    }

    [Fact]
    public async Task ExecuteAsync_ErrorReply_ThrowsExecuteExceptionAndConnectionStaysUsable()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<JsonElement> call = client.ExecuteAsync("device_del", new { Id = "nic9" });
            JsonObject request = await peer.ReceiveAsync();
            await peer.SendAsync($$$"""{"id": {{{request["id"]}}}, "error": {"class": "DeviceNotFound", "desc": "Device 'nic9' not found"}}""");

            var error = await Assert.ThrowsAsync<QmpExecuteException>(() => call.WaitAsync(Timeout));
            Assert.Equal("device_del", error.Command);
            Assert.Equal("DeviceNotFound", error.ErrorClass);
            Assert.Equal("Device 'nic9' not found", error.Description);
            Assert.Contains("device_del", error.Message);
            Assert.Contains("DeviceNotFound", error.Message);
            Assert.Contains("Device 'nic9' not found", error.Message);

            Task<JsonElement> next = client.ExecuteAsync("query-status");
            await peer.ReplyAsync(await peer.ReceiveAsync(), "{}");
            await next.WaitAsync(Timeout);
            Assert.True(client.IsConnected);
        }
    }

    [Fact]
    public async Task ExecuteAsync_RepliesOutOfOrder_EachCallGetsItsOwnReply()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            string[] commands = ["cmd-a", "cmd-b", "cmd-c"];
            Task<JsonElement>[] calls = commands.Select(c => client.ExecuteAsync(c)).ToArray();
            var requests = new List<JsonObject>();
            foreach (string _ in commands)
            {
                requests.Add(await peer.ReceiveAsync());
            }
            foreach (JsonObject request in Enumerable.Reverse(requests))
            {
                await peer.ReplyAsync(request, $$"""{"for": "{{request["execute"]}}"}""");
            }

            for (int i = 0; i < commands.Length; i++)
            {
                Assert.Equal(commands[i], (await calls[i].WaitAsync(Timeout)).GetProperty("for").GetString());
            }
        }
    }

    [Fact]
    public async Task Listen_SubscribedBeforeCommand_ReceivesOnlyNamedEvents()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            using QmpEventListener listener = client.Listen("STOP");
            Task<JsonElement> call = client.ExecuteAsync("stop");
            JsonObject request = await peer.ReceiveAsync();
            await peer.SendEventAsync("RESUME");
            await peer.SendEventAsync("STOP");
            await peer.ReplyAsync(request, "{}");
            await peer.SendEventAsync("STOP", """{"marker": 2}""");
            await call.WaitAsync(Timeout);

            QmpEvent first = await listener.NextAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal("STOP", first.Name);
            Assert.Equal(JsonValueKind.Object, first.Data.ValueKind); // no "data" sent: an empty object
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250), first.Timestamp);

            QmpEvent second = await listener.NextAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal("STOP", second.Name);
            Assert.Equal(2, second.Data.GetProperty("marker").GetInt32());
        }
    }

    [Fact]
    public async Task Listen_TwoListenersAndAnUnfilteredOne_AllReceiveTheEvent()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            using QmpEventListener one = client.Listen("MIGRATION");
            using QmpEventListener two = client.Listen("MIGRATION", "STOP");
            using QmpEventListener all = client.Listen();
            await peer.SendEventAsync("MIGRATION", """{"status": "active"}""");

            foreach (QmpEventListener listener in new[] { one, two, all })
            {
                QmpEvent e = await listener.WaitForAsync(e => e.Name == "MIGRATION").WaitAsync(Timeout);
                Assert.Equal("active", e.Data.GetProperty("status").GetString());
            }
        }
    }

    [Fact]
    public async Task Listen_DisposedListener_StopsReceiving()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            QmpEventListener gone = client.Listen();
            using QmpEventListener kept = client.Listen();
            gone.Dispose();
            gone.Dispose();
            await peer.SendEventAsync("STOP");

            await kept.NextAsync().AsTask().WaitAsync(Timeout);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => gone.NextAsync().AsTask().WaitAsync(Timeout));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // our request left unread: Linux reports the close as a reset, as after QEMU's `quit`
    public async Task ExecuteAsync_PeerCloses_PendingAndLaterCallsFailAndListenersDrainThenEnd(bool peerReadRequest)
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            using QmpEventListener listener = client.Listen();
            Task<JsonElement> pending = client.ExecuteAsync("migrate");
            if (peerReadRequest)
            {
                await peer.ReceiveAsync();
            }
            else
            {
                await Task.Delay(50); // let the request reach the peer's receive queue
            }
            await peer.SendEventAsync("MIGRATION", """{"status": "setup"}""");
            peer.CloseConnection();

            var failed = await Assert.ThrowsAsync<QmpDisconnectedException>(() => pending.WaitAsync(Timeout));
            Assert.IsType<EndOfStreamException>(failed.InnerException);
            Assert.IsType<EndOfStreamException>(await client.Disconnected.WaitAsync(Timeout));
            Assert.False(client.IsConnected);

            var later = await Assert.ThrowsAsync<QmpDisconnectedException>(() => client.ExecuteAsync("query-status"));
            Assert.IsType<EndOfStreamException>(later.InnerException);

            Assert.Equal("MIGRATION", (await listener.NextAsync().AsTask().WaitAsync(Timeout)).Name);
            await Assert.ThrowsAsync<QmpDisconnectedException>(() => listener.NextAsync().AsTask().WaitAsync(Timeout));

            using QmpEventListener afterTheEnd = client.Listen();
            Assert.Empty(await afterTheEnd.ReadAllAsync().ToListAsync().AsTask().WaitAsync(Timeout));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReaderLoop_OversizeLine_DisconnectsWithProtocolException(bool terminated)
    {
        var (peer, client) = await ConnectAsync(new QmpClientOptions { MaxMessageBytes = 1024 });
        await using (peer)
        await using (client)
        {
            Task<JsonElement> pending = client.ExecuteAsync("query-machines");
            JsonObject request = await peer.ReceiveAsync();
            string line = $$"""{"return": "{{new string('x', 4096)}}", "id": {{request["id"]}}}""";
            await peer.SendRawAsync(terminated ? line + "\r\n" : line);

            var failed = await Assert.ThrowsAsync<QmpDisconnectedException>(() => pending.WaitAsync(Timeout));
            Assert.IsType<QmpProtocolException>(failed.InnerException);
            Assert.IsType<QmpProtocolException>(await client.Disconnected.WaitAsync(Timeout));
            await peer.AssertClientClosedAsync();
        }
    }

    [Theory]
    [InlineData("""{"error": {"class": "GenericError", "desc": "JSON parse error"}}""")] // no id: QEMU could not parse a request
    [InlineData("""{"return": {}, "id": 1""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""{"event": 42}""")]
    public async Task ReaderLoop_InvalidMessage_DisconnectsWithProtocolException(string message)
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<JsonElement> pending = client.ExecuteAsync("query-status");
            await peer.ReceiveAsync();
            await peer.SendAsync(message);

            var failed = await Assert.ThrowsAsync<QmpDisconnectedException>(() => pending.WaitAsync(Timeout));
            Assert.IsType<QmpProtocolException>(failed.InnerException);
            Assert.IsType<QmpProtocolException>(await client.Disconnected.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task ReaderLoop_ReplyWithUnknownId_IsDropped()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<JsonElement> call = client.ExecuteAsync("query-status");
            JsonObject request = await peer.ReceiveAsync();
            await peer.SendAsync("""{"return": {"wrong": 1}, "id": 999}""");
            await peer.SendAsync("""{"return": {"wrong": 2}, "id": "__qmp#00001"}""");
            await peer.SendAsync("""{"error": {"class": "GenericError", "desc": "x"}, "id": {"a": [1]}}""");
            await peer.SendAsync("");
            await peer.ReplyAsync(request, """{"right": true}""");

            Assert.True((await call.WaitAsync(Timeout)).GetProperty("right").GetBoolean());
            Assert.True(client.IsConnected);
        }
    }

    [Fact]
    public async Task ExecuteAsync_Cancelled_ThrowsAndLateReplyIsDropped()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            using var cts = new CancellationTokenSource();
            Task<JsonElement> cancelled = client.ExecuteAsync("migrate", cancellationToken: cts.Token);
            JsonObject request = await peer.ReceiveAsync();
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
            Assert.Equal(0, client.PendingCallCount);

            // The command still reached the peer; its reply arrives after the caller gave up.
            await peer.ReplyAsync(request, """{"late": true}""");
            Task<JsonElement> next = client.ExecuteAsync("query-status");
            await peer.ReplyAsync(await peer.ReceiveAsync(), """{"late": false}""");
            Assert.False((await next.WaitAsync(Timeout)).GetProperty("late").GetBoolean());
            Assert.True(client.IsConnected);
        }
    }

    [Fact]
    public async Task ExecuteAsync_AlreadyCancelled_SendsNothing()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(
                () => client.ExecuteAsync("quit", cancellationToken: new CancellationToken(true)));
            Task<JsonElement> next = client.ExecuteAsync("query-status");
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("query-status", (string?)request["execute"]);
            await peer.ReplyAsync(request, "{}");
            await next.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task ConnectAsync_EventBeforeTheGreeting_SkippedAndTheClientNegotiates()
    {
        // What QEMU 7.2 does to a client that connects while it starts: the machine's RESUME reaches the socket first.
        await using var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(peer.SocketPath);
        await peer.AcceptAsync();
        await peer.SendEventAsync("RESUME");
        await peer.SendAsync(FakeQmpPeer.Greeting);
        JsonObject request = await peer.ReceiveAsync();
        Assert.Equal("qmp_capabilities", (string?)request["execute"]);
        await peer.ReplyAsync(request, "{}");

        await using QmpClient client = await connect.WaitAsync(Timeout);
        Assert.Equal(new QmpVersion(7, 2, 3), client.Greeting.Version);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"return": {}, "id": 1}""")]
    [InlineData("""{"QMP": {"version": {"qemu": {"major": 7}, "package": ""}, "capabilities": []}}""")]
    [InlineData("""{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": "oob"}}""")]
    [InlineData("""[{"QMP": {}}]""")]
    [InlineData(null)] // peer hangs up without a greeting
    public async Task ConnectAsync_BadGreeting_ThrowsProtocolExceptionAndCloses(string? greeting)
    {
        await using var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(peer.SocketPath);
        await peer.AcceptAsync();
        if (greeting is null)
        {
            peer.CloseConnection();
        }
        else
        {
            await peer.SendAsync(greeting);
        }

        await Assert.ThrowsAsync<QmpProtocolException>(() => connect.WaitAsync(Timeout));
        if (greeting is not null)
        {
            await peer.AssertClientClosedAsync(); // and sent nothing
        }
    }

    [Fact]
    public async Task ConnectAsync_CapabilitiesRefused_ThrowsProtocolExceptionWithExecuteError()
    {
        await using var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(peer.SocketPath);
        await peer.AcceptAsync();
        await peer.SendAsync(FakeQmpPeer.Greeting);
        JsonObject request = await peer.ReceiveAsync();
        await peer.SendAsync($$$"""{"id": {{{request["id"]}}}, "error": {"class": "GenericError", "desc": "Capabilities negotiation is already complete"}}""");

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => connect.WaitAsync(Timeout));
        var inner = Assert.IsType<QmpExecuteException>(error.InnerException);
        Assert.Equal("qmp_capabilities", inner.Command);
        Assert.Equal("GenericError", inner.ErrorClass);
    }

    [Fact]
    public async Task ConnectAsync_SilentPeer_TimesOutWithProtocolException()
    {
        await using var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(
            peer.SocketPath, new QmpClientOptions { NegotiationTimeout = TimeSpan.FromMilliseconds(200) });
        await peer.AcceptAsync();

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => connect.WaitAsync(Timeout));
        Assert.Contains("did not finish", error.Message);
    }

    [Theory]
    [InlineData(false)] // ENOENT: no socket file yet
    [InlineData(true)]  // ECONNREFUSED: a file exists but nobody listens on it yet
    public async Task ConnectAsync_SocketAppearsLate_RetriesUntilConnected(bool staleFileFirst)
    {
        string path = FakeQmpPeer.NewSocketPath();
        Socket? stale = null;
        if (staleFileFirst)
        {
            stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            stale.Bind(new UnixDomainSocketEndPoint(path)); // bound, never listening
        }
        Task<QmpClient> connect = QmpClient.ConnectAsync(path, new QmpClientOptions { ConnectTimeout = Timeout });
        await Task.Delay(150);
        Assert.False(connect.IsCompleted);

        stale?.Dispose();
        File.Delete(path);
        await using var peer = FakeQmpPeer.Start(path);
        await peer.HandshakeAsync();
        await using QmpClient client = await connect.WaitAsync(Timeout);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task ConnectAsync_NoSocketWithinTimeout_ThrowsSocketException()
    {
        string path = FakeQmpPeer.NewSocketPath();
        try
        {
            var clock = Stopwatch.StartNew();
            await Assert.ThrowsAsync<SocketException>(() => QmpClient.ConnectAsync(
                path, new QmpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(150) }).WaitAsync(Timeout));
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), Timeout);

            // Without a timeout there is one attempt: it fails at once instead of waiting.
            clock.Restart();
            await Assert.ThrowsAsync<SocketException>(() => QmpClient.ConnectAsync(path).WaitAsync(Timeout));
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public async Task ExecuteAsync_ManyConcurrentCallers_RequestsNeverInterleave()
    {
        const int Callers = 64;
        var (peer, client) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            // Payloads far larger than one socket write, so interleaved bytes would break the JSON.
            Task<string>[] calls = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
            {
                JsonElement result = await client.ExecuteAsync("echo", new { Tag = i, Payload = new string((char)('a' + i % 26), 32 * 1024) });
                return $"{result.GetProperty("tag").GetInt32()}:{result.GetProperty("length").GetInt32()}";
            })).ToArray();

            var requests = new List<JsonObject>();
            for (int i = 0; i < Callers; i++)
            {
                requests.Add(await peer.ReceiveAsync());
            }
            Assert.Equal(Callers, requests.Select(r => (long)r["id"]!).Distinct().Count());
            foreach (JsonObject request in Enumerable.Reverse(requests))
            {
                JsonNode arguments = request["arguments"]!;
                string payload = (string)arguments["payload"]!;
                Assert.True(payload.All(c => c == payload[0]));
                await peer.ReplyAsync(request, $$"""{"tag": {{arguments["tag"]}}, "length": {{payload.Length}}}""");
            }

            string[] results = await Task.WhenAll(calls).WaitAsync(Timeout);
            Assert.Equal(Enumerable.Range(0, Callers).Select(i => $"{i}:{32 * 1024}"), results);
        }
    }

    [Fact]
    public async Task DisposeAsync_WithPendingCall_FailsItCompletesWithNullAndIsIdempotent()
    {
        var (peer, client) = await ConnectAsync();
        await using (peer)
        {
            using QmpEventListener listener = client.Listen();
            Task<JsonElement> pending = client.ExecuteAsync("migrate");
            await peer.ReceiveAsync();

            await client.DisposeAsync().AsTask().WaitAsync(Timeout);
            await client.DisposeAsync().AsTask().WaitAsync(Timeout);

            var failed = await Assert.ThrowsAsync<QmpDisconnectedException>(() => pending.WaitAsync(Timeout));
            Assert.Null(failed.InnerException);
            Assert.Null(await client.Disconnected.WaitAsync(Timeout));
            Assert.False(client.IsConnected);
            Assert.Empty(await listener.ReadAllAsync().ToListAsync().AsTask().WaitAsync(Timeout));
            await peer.AssertClientClosedAsync();
        }
    }
}
