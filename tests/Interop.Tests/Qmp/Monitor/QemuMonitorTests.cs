using System.Diagnostics;
using System.Text.Json.Nodes;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.Interop.Tests.Qmp.Monitor;

/// <summary>The typed monitor against <see cref="FakeQmpPeer"/>: what each method sends, how replies map, deadlines.</summary>
public sealed class QemuMonitorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static async Task<(FakeQmpPeer Peer, QmpClient Client, QemuMonitor Monitor)> ConnectAsync(QmpClientOptions? options = null)
    {
        var peer = FakeQmpPeer.Start();
        Task<QmpClient> connect = QmpClient.ConnectAsync(peer.SocketPath, options);
        await peer.HandshakeAsync();
        QmpClient client = await connect.WaitAsync(Timeout);
        return (peer, client, new QemuMonitor(client));
    }

    /// <summary>QMP frames messages by line: a reply written over several lines for reading goes out as one.</summary>
    private static string OneLine(string json) => string.Join(' ', json.Split('\n', StringSplitOptions.TrimEntries));

    /// <summary>Each command method: the command name and the exact arguments it puts on the wire.</summary>
    public static TheoryData<string, Func<QemuMonitor, Task>, string, string?> Commands => new()
    {
        { "cont", m => m.ContAsync(), "cont", null },
        { "stop", m => m.StopAsync(), "stop", null },
        { "quit", m => m.QuitAsync(), "quit", null },
        { "powerdown", m => m.SystemPowerdownAsync(), "system_powerdown", null },
        { "cancel", m => m.MigrateCancelAsync(), "migrate_cancel", null },
        { "migrate", m => m.MigrateAsync("unix:/run/x/migrate.sock"), "migrate", """{"uri":"unix:/run/x/migrate.sock"}""" },
        { "incoming", m => m.MigrateIncomingAsync("unix:/run/y.sock"), "migrate-incoming", """{"uri":"unix:/run/y.sock"}""" },
        { "continue", m => m.MigrateContinueAsync(), "migrate-continue", """{"state":"pre-switchover"}""" },
        {
            "capabilities",
            m => m.MigrateSetCapabilitiesAsync([new(MigrationCapability.Events, true), new(MigrationCapability.XIgnoreShared, false),
                new(MigrationCapability.PauseBeforeSwitchover, true)]),
            "migrate-set-capabilities",
            """{"capabilities":[{"capability":"events","state":true},{"capability":"x-ignore-shared","state":false},{"capability":"pause-before-switchover","state":true}]}"""
        },
        {
            "parameters",
            m => m.MigrateSetParametersAsync(new MigrationParameters { MaxBandwidth = 1L << 40, DowntimeLimit = 300, TlsCreds = "" }),
            "migrate-set-parameters",
            """{"max-bandwidth":1099511627776,"downtime-limit":300,"tls-creds":""}"""
        },
        {
            "x509",
            m => m.ObjectAddAsync(new TlsCredsX509 { Id = "c", Dir = "/etc/pki/lm", Endpoint = TlsCredsEndpoint.Server, VerifyPeer = true }),
            "object-add",
            """{"qom-type":"tls-creds-x509","dir":"/etc/pki/lm","endpoint":"server","verify-peer":true,"id":"c"}"""
        },
        {
            "psk",
            m => m.ObjectAddAsync(new TlsCredsPsk { Id = "p", Dir = "/run/k", Endpoint = TlsCredsEndpoint.Client, Username = "u" }),
            "object-add",
            """{"qom-type":"tls-creds-psk","dir":"/run/k","endpoint":"client","username":"u","id":"p"}"""
        },
        {
            "authz-list",
            m => m.ObjectAddAsync(new AuthzList { Id = "a", Policy = AuthzListPolicy.Deny, Rules = [new("O=x,CN=y", AuthzListPolicy.Allow, AuthzListFormat.Exact)] }),
            "object-add",
            """{"qom-type":"authz-list","policy":"deny","rules":[{"match":"O=x,CN=y","policy":"allow","format":"exact"}],"id":"a"}"""
        },
        { "authz-simple", m => m.ObjectAddAsync(new AuthzSimple { Id = "s", Identity = "O=x,CN=y" }), "object-add", """{"qom-type":"authz-simple","identity":"O=x,CN=y","id":"s"}""" },
        { "object-del", m => m.ObjectDelAsync("c"), "object-del", """{"id":"c"}""" },
        {
            "tls-parameters",
            m => m.MigrateSetParametersAsync(new MigrationParameters { TlsCreds = "c", TlsHostname = "10.0.0.2", TlsAuthz = "a" }),
            "migrate-set-parameters",
            """{"tls-creds":"c","tls-hostname":"10.0.0.2","tls-authz":"a"}"""
        },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task CommandMethod_Called_SendsItsCommandAndArgumentsAndCompletesOnReturn(
        string label, Func<QemuMonitor, Task> call, string command, string? arguments)
    {
        _ = label;
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task pending = call(monitor);
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal(command, (string?)request["execute"]);
            Assert.Equal(arguments, request["arguments"]?.ToJsonString());
            Assert.False(pending.IsCompleted);
            await peer.ReplyAsync(request, "{}");
            await pending.WaitAsync(Timeout);
        }
    }

    [Theory]
    [InlineData("running", RunState.Running)]
    [InlineData("paused", RunState.Paused)]
    [InlineData("postmigrate", RunState.Postmigrate)]
    [InlineData("inmigrate", RunState.Inmigrate)]
    [InlineData("finish-migrate", RunState.FinishMigrate)]
    [InlineData("guest-panicked", RunState.GuestPanicked)]
    [InlineData("x-state-of-qemu-99", RunState.Unknown)]
    public async Task QueryStatusAsync_Reply_MapsRunStateAndUnknownForNewValues(string wire, RunState expected)
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<StatusInfo> status = monitor.QueryStatusInfoAsync();
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("query-status", (string?)request["execute"]);
            await peer.ReplyAsync(request, $$"""{"running": false, "singlestep": false, "status": "{{wire}}"}""");
            Assert.Equal(new StatusInfo { Running = false, Status = expected }, await status.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task QueryMigrateAsync_ActiveReply_MapsStatusTimesAndRam()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<MigrationInfo> info = monitor.QueryMigrateAsync();
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("query-migrate", (string?)request["execute"]);
            await peer.ReplyAsync(request, OneLine("""
                {"expected-downtime": 300, "status": "active", "setup-time": 2, "total-time": 1500,
                 "ram": {"total": 268435456, "remaining": 1048576, "transferred": 9000, "mbps": 812.5,
                         "dirty-pages-rate": 120, "dirty-sync-count": 3, "duplicate": 7, "normal": 2, "normal-bytes": 8192,
                         "postcopy-requests": 0, "page-size": 4096, "multifd-bytes": 0, "pages-per-second": 10,
                         "precopy-bytes": 9000, "downtime-bytes": 0, "postcopy-bytes": 0, "dirty-sync-missed-zero-copy": 0, "skipped": 0},
                 "cpu-throttle-percentage": 20, "blocked-reasons": []}
                """));
            MigrationInfo result = await info.WaitAsync(Timeout);
            Assert.Equal(MigrationStatus.Active, result.Status);
            Assert.Equal(1500, result.TotalTime);
            Assert.Equal(300, result.ExpectedDowntime);
            Assert.Null(result.Downtime);
            Assert.Equal(20, result.CpuThrottlePercentage);
            Assert.Equal(new MigrationRamStats
            {
                Total = 268435456, Remaining = 1048576, Transferred = 9000, Mbps = 812.5, DirtyPagesRate = 120,
                DirtySyncCount = 3, Duplicate = 7, Normal = 2, NormalBytes = 8192, PageSize = 4096, PagesPerSecond = 10,
            }, result.Ram);
        }
    }

    [Theory]
    [InlineData("{}", MigrationStatus.None)]
    [InlineData("""{"status": "none"}""", MigrationStatus.None)]
    [InlineData("""{"status": "pre-switchover"}""", MigrationStatus.PreSwitchover)]
    [InlineData("""{"status": "postcopy-recover-setup"}""", MigrationStatus.PostcopyRecoverSetup)]
    [InlineData("""{"status": "postcopy-device"}""", MigrationStatus.Unknown)]
    [InlineData("""{"status": "failed", "error-desc": "Unable to write to socket: Broken pipe"}""", MigrationStatus.Failed)]
    public async Task QueryMigrateAsync_StatusValues_MapToEnumNeverThrow(string reply, MigrationStatus expected)
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<MigrationInfo> info = monitor.QueryMigrateAsync();
            await peer.ReplyAsync(await peer.ReceiveAsync(), reply);
            MigrationInfo result = await info.WaitAsync(Timeout);
            Assert.Equal(expected, result.Status);
            Assert.Equal(expected == MigrationStatus.Failed ? "Unable to write to socket: Broken pipe" : null, result.ErrorDesc);
        }
    }

    [Fact]
    public async Task QueryMachinesAsync_Reply_MapsNameAliasAndDefault()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<IReadOnlyList<MachineInfo>> machines = monitor.QueryMachinesAsync();
            JsonObject request = await peer.ReceiveAsync();
            Assert.Equal("query-machines", (string?)request["execute"]);
            await peer.ReplyAsync(request, OneLine("""
                [{"hotpluggable-cpus": true, "name": "pc-q35-7.2", "numa-mem-supported": false, "default-cpu-type": "qemu64-x86_64-cpu",
                  "cpu-max": 288, "deprecated": false, "default-ram-id": "pc.ram", "alias": "q35"},
                 {"name": "pc-i440fx-7.2", "cpu-max": 255, "deprecated": false, "is-default": true, "alias": "pc"},
                 {"name": "pc-q35-2.4", "cpu-max": 255, "deprecated": true}]
                """));
            IReadOnlyList<MachineInfo> result = await machines.WaitAsync(Timeout);
            Assert.Equal([new MachineInfo("pc-q35-7.2", "q35") { CpuMax = 288 }, new MachineInfo("pc-i440fx-7.2", "pc") { CpuMax = 255, IsDefault = true },
                new MachineInfo("pc-q35-2.4", null) { CpuMax = 255, Deprecated = true }], result);
        }
    }

    [Fact]
    public async Task QueryVersionAsync_Reply_MapsTripleAndPackage()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task<VersionInfo> version = monitor.QueryVersionAsync();
            await peer.ReplyAsync(await peer.ReceiveAsync(), """{"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian 1:10.0.2+ds-2"}""");
            Assert.Equal(new VersionInfo(new QmpVersion(10, 0, 2), "Debian 1:10.0.2+ds-2"), await version.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task QueryStatusAsync_PeerNeverAnswers_ThrowsTimeoutNamingTheCommandAndStaysUsable()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            var clock = Stopwatch.StartNew();
            Task<RunState> status = monitor.QueryStatusAsync(TimeSpan.FromMilliseconds(300));
            JsonObject unanswered = await peer.ReceiveAsync();

            var error = await Assert.ThrowsAsync<QmpTimeoutException>(() => status.WaitAsync(Timeout));

            Assert.Equal("query-status", error.Command);
            Assert.Equal(TimeSpan.FromMilliseconds(300), error.Timeout);
            Assert.Contains("'query-status'", error.Message);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), Timeout);
            Assert.Equal(0, client.PendingCallCount);
            // The late reply is dropped; the next call gets its own answer.
            await peer.ReplyAsync(unanswered, """{"running": true, "status": "running"}""");
            Task<RunState> next = monitor.QueryStatusAsync();
            JsonObject request = await peer.ReceiveAsync();
            await peer.ReplyAsync(request, """{"running": false, "status": "paused"}""");
            Assert.Equal(RunState.Paused, await next.WaitAsync(Timeout));
            Assert.True(client.IsConnected);
        }
    }

    [Fact]
    public async Task CommandMethod_NoOwnTimeout_UsesTheClientsCommandTimeout()
    {
        var (peer, client, monitor) = await ConnectAsync(new QmpClientOptions { CommandTimeout = TimeSpan.FromMilliseconds(200) });
        await using (peer)
        await using (client)
        {
            Task powerdown = monitor.SystemPowerdownAsync();
            await peer.ReceiveAsync();
            var error = await Assert.ThrowsAsync<QmpTimeoutException>(() => powerdown.WaitAsync(Timeout));
            Assert.Equal("system_powerdown", error.Command);
            Assert.Equal(TimeSpan.FromMilliseconds(200), error.Timeout);
        }
    }

    [Fact]
    public async Task CommandMethod_CallerCancelsBeforeDeadline_ThrowsOperationCanceledNotTimeout()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            using var cancel = new CancellationTokenSource();
            Task<MigrationInfo> info = monitor.QueryMigrateAsync(TimeSpan.FromSeconds(30), cancel.Token);
            await peer.ReceiveAsync();
            cancel.Cancel();
            var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => info.WaitAsync(Timeout));
            Assert.IsNotType<QmpTimeoutException>(error);
            Assert.Equal(0, client.PendingCallCount);
        }
    }

    [Fact]
    public async Task CommandMethod_QemuRefuses_ThrowsExecuteErrorWithCommandAndClass()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            Task migrate = monitor.MigrateAsync("unix:/nowhere");
            JsonObject request = await peer.ReceiveAsync();
            await peer.SendAsync($$"""{"error": {"class": "GenericError", "desc": "Failed to connect to '/nowhere'"}, "id": {{request["id"]!.ToJsonString()}}}""");
            var error = await Assert.ThrowsAsync<QmpExecuteException>(() => migrate.WaitAsync(Timeout));
            Assert.Equal(("migrate", "GenericError"), (error.Command, error.ErrorClass));
        }
    }

    [Fact]
    public async Task MigrationStatusOf_MigrationEvents_MapsStatusAndUnknown()
    {
        var (peer, client, monitor) = await ConnectAsync();
        await using (peer)
        await using (client)
        {
            using QmpEventListener events = monitor.Listen(QemuEvents.Migration, QemuEvents.Shutdown);
            await peer.SendEventAsync("MIGRATION", """{"status": "setup"}""");
            await peer.SendEventAsync("MIGRATION", """{"status": "x-newer"}""");
            await peer.SendEventAsync("MIGRATION");
            await peer.SendEventAsync("SHUTDOWN", """{"guest": true, "reason": "guest-shutdown"}""");
            await peer.SendEventAsync("SHUTDOWN", """{"guest": false, "reason": "host-signal"}""");

            Assert.Equal(MigrationStatus.Setup, QemuEvents.MigrationStatusOf(await events.NextAsync().AsTask().WaitAsync(Timeout)));
            Assert.Equal(MigrationStatus.Unknown, QemuEvents.MigrationStatusOf(await events.NextAsync().AsTask().WaitAsync(Timeout)));
            Assert.Equal(MigrationStatus.Unknown, QemuEvents.MigrationStatusOf(await events.NextAsync().AsTask().WaitAsync(Timeout)));
            Assert.True(QemuEvents.IsGuestShutdown(await events.NextAsync().AsTask().WaitAsync(Timeout)));
            Assert.False(QemuEvents.IsGuestShutdown(await events.NextAsync().AsTask().WaitAsync(Timeout)));
        }
    }
}
