using System.Diagnostics;
using System.Text.RegularExpressions;
using LocalMigrate.Interop.Systemd;
using Xunit.Abstractions;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class BusConnectionExportTests(PrivateDbusDaemon daemon, ITestOutputHelper output) : IClassFixture<PrivateDbusDaemon>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AddObjectAsync_Introspected_ListsMethodsPropertiesAndSignalsWithSignatures()
    {
        await using var service = await TestService.StartAsync(daemon);

        var result = await CommandRunner.Busctl(daemon.Address, "introspect", service.Name, TestService.ObjectPath);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var rows = result.Stdout.Split('\n')
            .Select(line => Regex.Split(line.Trim(), @"\s+"))
            .Where(cols => cols.Length >= 4)
            .ToDictionary(cols => cols[0], cols => cols);
        Assert.Equal("interface", rows[TestService.Interface][1]);
        Assert.Equal(["method", "s", "s"], rows[".Echo"][1..4]);
        Assert.Equal(["method", "a{sv}o", "a{sv}o"], rows[".RoundTrip"][1..4]);
        Assert.Equal(["method", "ss", "-"], rows[".Fail"][1..4]);
        Assert.Equal(["property", "s", "\"domain-a\""], rows[".Name"][1..4]);
        Assert.Contains("const", rows[".Name"]);
        Assert.Equal(["property", "u", "0"], rows[".Progress"][1..4]);
        Assert.Contains("emits-change", rows[".Progress"]);
        Assert.Equal(["signal", "u", "-"], rows[".Progressed"][1..4]);
    }

    [Fact]
    public async Task AddObjectAsync_IntrospectXml_HasArgumentNamesAndNoPrivilegedAnnotation()
    {
        await using var service = await TestService.StartAsync(daemon);

        var result = await CommandRunner.Busctl(daemon.Address, "introspect", "--xml-interface", service.Name, TestService.ObjectPath);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("<arg type=\"a{sv}\" name=\"options\" direction=\"in\"/>", result.Stdout);
        Assert.Contains("<arg type=\"o\" name=\"job\" direction=\"out\"/>", result.Stdout);
        Assert.Contains("<arg type=\"u\" name=\"progress\"/>", result.Stdout);

        // Methods carry SD_BUS_VTABLE_UNPRIVILEGED; without it sd-bus would demand CAP_SYS_ADMIN on this untrusted bus.
        Assert.DoesNotContain("org.freedesktop.systemd1.Privileged", result.Stdout);
    }

    [Fact]
    public async Task Method_CalledByBusctl_RepliesWithHandlerResult()
    {
        await using var service = await TestService.StartAsync(daemon);

        var result = await CommandRunner.Busctl(daemon.Address, "--json=short", "call", service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", "héllo wörld");

        // JSON output, because busctl's plain output C-escapes non-ASCII bytes.
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.Equal("s", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("héllo wörld", json.RootElement.GetProperty("data")[0].GetString());
    }

    [Fact]
    public async Task CallAsync_ExportedMethod_ReturnsReplyValues()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        var reply = await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", ["ping"], "s");

        Assert.Equal(["ping"], reply);
    }

    [Fact]
    public async Task CallAsync_DictOfVariantsAndObjectPath_RoundTripsTypes()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var options = new Dictionary<string, object>
        {
            ["maxDowntimeMs"] = new BusVariant("t", 300UL),
            ["bandwidth"] = 12u,
            ["postcopy"] = true,
            ["target"] = "unix:/run/x.sock",
            ["ratio"] = 0.5,
            ["job"] = new BusObjectPath("/org/localmigrate1/job/7"),
            ["tags"] = new[] { "a", "b" },
            ["nested"] = new Dictionary<string, object> { ["depth"] = 2 },
            ["pairs"] = new BusVariant("a(si)", new object[] { ("x", 1), new object[] { "y", 2 } }),
        };

        var reply = await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "RoundTrip", "a{sv}o",
            [options, new BusObjectPath("/org/localmigrate1/job/7")], "a{sv}o");

        var back = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object>>(reply[0]);
        Assert.Equal(300UL, back["maxDowntimeMs"]);
        Assert.Equal(12u, back["bandwidth"]);
        Assert.Equal(true, back["postcopy"]);
        Assert.Equal("unix:/run/x.sock", back["target"]);
        Assert.Equal(0.5, back["ratio"]);
        Assert.Equal(new BusObjectPath("/org/localmigrate1/job/7"), back["job"]);
        Assert.Equal(new[] { "a", "b" }, back["tags"]);
        Assert.Equal(2, Assert.IsAssignableFrom<IReadOnlyDictionary<string, object>>(back["nested"])["depth"]);
        var pairs = Assert.IsType<object[]>(back["pairs"]);
        Assert.Equal(new object[] { "x", 1 }, pairs[0]);
        Assert.Equal(new object[] { "y", 2 }, pairs[1]);
        Assert.Equal(new BusObjectPath("/org/localmigrate1/job/7"), reply[1]);
    }

    [Fact]
    public async Task Method_DictOfVariantsFromBusctl_ParsedIntoDictionary()
    {
        await using var service = await TestService.StartAsync(daemon);

        var result = await CommandRunner.Busctl(daemon.Address, "call", service.Name, TestService.ObjectPath, TestService.Interface,
            "RoundTrip", "a{sv}o", "2", "speed", "t", "5", "name", "s", "x", "/org/localmigrate1/job/1");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("a{sv}o 2 \"speed\" t 5 \"name\" s \"x\" \"/org/localmigrate1/job/1\"", result.Stdout.Trim());
    }

    [Fact]
    public async Task Method_HandlerAwaiting_DoesNotBlockOtherCallsOnSameConnection()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var clock = Stopwatch.StartNew();

        var slow = client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Slow", "u", [200u]);
        var fast = await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", ["quick"]);
        var fastDone = clock.Elapsed;

        Assert.Equal(["quick"], fast);
        Assert.False(slow.IsCompleted, $"the 200 ms call finished before the echo ({fastDone.TotalMilliseconds} ms)");
        Assert.Equal(["slow"], await slow.WaitAsync(Limit));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(190), $"slow call returned after {clock.Elapsed.TotalMilliseconds} ms");
        output.WriteLine($"echo answered after {fastDone.TotalMilliseconds:0.0} ms while Slow(200) was pending");
    }

    [Fact]
    public async Task CallAsync_HandlerThrowsBusError_ThrowsBusErrorExceptionWithName()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        var error = await Assert.ThrowsAsync<BusErrorException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface,
            "Fail", "ss", ["org.localmigrate1.Error.NoSuchDomain", "no domain 'x'"]));

        Assert.Equal("org.localmigrate1.Error.NoSuchDomain", error.ErrorName);
        Assert.Equal("no domain 'x'", error.Message);
    }

    [Fact]
    public async Task Method_HandlerThrowsBusError_ExternalClientsSeeNameAndMessage()
    {
        await using var service = await TestService.StartAsync(daemon);

        var busctl = await CommandRunner.Busctl(daemon.Address, "call", service.Name, TestService.ObjectPath, TestService.Interface,
            "Fail", "ss", "org.localmigrate1.Error.Busy", "domain is migrating");
        var dbusSend = await CommandRunner.RunAsync("dbus-send", [$"--bus={daemon.Address}", "--print-reply", $"--dest={service.Name}",
            TestService.ObjectPath, $"{TestService.Interface}.Fail", "string:org.localmigrate1.Error.Busy", "string:domain is migrating"]);

        // busctl prints only the message; dbus-send prints the error name too.
        Assert.NotEqual(0, busctl.ExitCode);
        Assert.Contains("domain is migrating", busctl.Stderr);
        Assert.NotEqual(0, dbusSend.ExitCode);
        Assert.Contains("Error org.localmigrate1.Error.Busy: domain is migrating", dbusSend.Stderr);
    }

    [Fact]
    public async Task CallAsync_HandlerThrowsOtherException_ThrowsFailedWithMessage()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        var error = await Assert.ThrowsAsync<BusErrorException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Crash", "", []));

        Assert.Equal(BusErrorNames.Failed, error.ErrorName);
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task CallAsync_HandlerResultDoesNotMatchOutSignature_ThrowsFailed()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        var error = await Assert.ThrowsAsync<BusErrorException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "BadReply", "", []));

        Assert.Equal(BusErrorNames.Failed, error.ErrorName);
        Assert.Contains("'u'", error.Message);
    }

    [Fact]
    public async Task CallAsync_UnknownMethod_ThrowsUnknownMethod()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        var error = await Assert.ThrowsAsync<BusErrorException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Nope", "", []));

        Assert.Equal(BusErrorNames.UnknownMethod, error.ErrorName);
    }

    [Fact]
    public async Task Property_ReadByBusctl_ReturnsGetterValue()
    {
        await using var service = await TestService.StartAsync(daemon);
        service.Progress = 73;

        var name = await CommandRunner.Busctl(daemon.Address, "get-property", service.Name, TestService.ObjectPath, TestService.Interface, "Name");
        var progress = await CommandRunner.Busctl(daemon.Address, "get-property", service.Name, TestService.ObjectPath, TestService.Interface, "Progress");

        Assert.True(name.ExitCode == 0, name.Stderr);
        Assert.Equal("s \"domain-a\"", name.Stdout.Trim());
        Assert.Equal("u 73", progress.Stdout.Trim());
    }

    [Fact]
    public async Task EmitPropertiesChanged_SecondConnectionMatch_ReceivesNewValue()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var received = new TaskCompletionSource<BusSignal>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var match = await client.AddMatchAsync(
            $"type='signal',sender='{service.Name}',path='{TestService.ObjectPath}',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'",
            signal => received.TrySetResult(signal));

        service.Progress = 42;
        await service.Connection.EmitPropertiesChanged(TestService.ObjectPath, TestService.Interface, "Progress");
        var signal = await received.Task.WaitAsync(Limit);

        Assert.Equal(TestService.ObjectPath, signal.Path);
        Assert.Equal(service.Name, signal.Sender);
        Assert.Equal("sa{sv}as", signal.Signature);
        Assert.Equal(TestService.Interface, signal.Args[0]);
        Assert.Equal(42u, Assert.IsAssignableFrom<IReadOnlyDictionary<string, object>>(signal.Args[1])["Progress"]);
        Assert.Empty(Assert.IsType<string[]>(signal.Args[2]));
    }

    [Fact]
    public async Task EmitSignal_MatchingSubscriber_ReceivesArgumentsInOrder()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var values = new List<uint>();
        var gotThree = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var match = await client.AddMatchAsync($"type='signal',sender='{service.Name}',interface='{TestService.Interface}',member='Progressed'", signal =>
        {
            values.Add((uint)signal.Args[0]);
            if (values.Count == 3)
            {
                gotThree.TrySetResult();
            }
        });

        foreach (var progress in new uint[] { 10, 20, 30 })
        {
            _ = service.Connection.EmitSignal(TestService.ObjectPath, TestService.Interface, "Progressed", "u", progress);
        }

        await gotThree.Task.WaitAsync(Limit);
        Assert.Equal([10u, 20u, 30u], values);
    }

    [Fact]
    public async Task AddMatchAsync_InvalidRule_ThrowsBusError()
    {
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        await Assert.ThrowsAnyAsync<Exception>(() => client.AddMatchAsync("type='nonsense'", _ => { }));
    }

    [Fact]
    public async Task SenderUid_RootCaller_IsZero()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        var viaCall = await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "WhoAmI", "", []);
        var sender = service.LastCall?.Sender;
        var viaBusctl = await CommandRunner.Busctl(daemon.Address, "call", service.Name, TestService.ObjectPath, TestService.Interface, "WhoAmI");

        Assert.Equal([0u], viaCall);
        Assert.Equal(client.UniqueName, sender);
        Assert.Equal("u 0", viaBusctl.Stdout.Trim());
    }

    [Fact]
    public async Task SenderUid_UnprivilegedCaller_IsThatUsersUid()
    {
        var uid = await CommandRunner.EnsureTestUserAsync();
        await using var service = await TestService.StartAsync(daemon);

        var result = await CommandRunner.RunAsync("busctl",
            [$"--address={daemon.Address}", "call", service.Name, TestService.ObjectPath, TestService.Interface, "WhoAmI"],
            asUser: CommandRunner.TestUser);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.NotEqual(0u, uid);
        Assert.Equal($"u {uid}", result.Stdout.Trim());
        Assert.Equal(uid, service.LastCall!.SenderUid);
        Assert.Equal(TestService.Interface, service.LastCall.Interface);
        Assert.Equal("WhoAmI", service.LastCall.Member);
        Assert.Equal(TestService.ObjectPath, service.LastCall.Path);
        Assert.StartsWith(":", service.LastCall.Sender);
    }

    [Fact]
    public async Task RequestNameAsync_NameTakenByAnotherConnection_Throws()
    {
        await using var first = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        await using var second = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        await first.RequestNameAsync("org.localmigrate1.TakenTest");

        await first.RequestNameAsync("org.localmigrate1.TakenTest");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.RequestNameAsync("org.localmigrate1.TakenTest"));

        Assert.Contains("already owned", error.Message);
        var owner = await second.CallAsync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", "s", ["org.localmigrate1.TakenTest"]);
        Assert.Equal(first.UniqueName, owner[0]);
    }

    [Fact]
    public async Task AddObjectManagerAsync_ChildObjects_EnumeratedByGetManagedObjects()
    {
        await using var server = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        await using var manager = await server.AddObjectManagerAsync("/org/localmigrate1");
        var domain = new BusInterfaceBuilder("org.localmigrate1.Domain")
            .Property("Name", "s", () => "vm1", BusPropertyFlags.Const)
            .Build();
        await using var vm1 = await server.AddObjectAsync("/org/localmigrate1/domain/vm1", domain);

        var reply = await client.CallAsync(server.UniqueName, "/org/localmigrate1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", [], "a{oa{sa{sv}}}");

        var objects = Assert.IsAssignableFrom<IReadOnlyDictionary<object, object>>(reply[0]);
        var interfaces = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object>>(objects[new BusObjectPath("/org/localmigrate1/domain/vm1")]);
        var properties = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object>>(interfaces["org.localmigrate1.Domain"]);
        Assert.Equal("vm1", properties["Name"]);
    }

    [Fact]
    public async Task AddObjectAsync_RegistrationDisposed_ObjectIsGone()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        await service.Registration.DisposeAsync();
        var error = await Assert.ThrowsAsync<BusErrorException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", ["x"]));

        Assert.Equal(BusErrorNames.UnknownObject, error.ErrorName);
    }

    [Fact]
    public async Task CallAsync_ManyConcurrentCallersOnManyThreads_AllRepliesMatch()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        // Exercises the eventfd work queue under contention: lost wake-ups would hang a call. At most 100 in
        // flight, because dbus-daemon refuses more than max_replies_per_connection (128 by default) pending replies.
        using var inFlight = new SemaphoreSlim(100);
        var calls = Enumerable.Range(0, 2000).Select(i => Task.Run(async () =>
        {
            await inFlight.WaitAsync();
            try
            {
                return (i, await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", [$"n{i}"]));
            }
            finally
            {
                inFlight.Release();
            }
        }));
        var replies = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(replies, r => Assert.Equal($"n{r.i}", r.Item2[0]));
    }

    [Fact]
    public async Task Ping_ThousandRoundTrips_ReportsMedian()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var ping = new List<double>(1000);
        var echo = new List<double>(1000);

        for (var i = 0; i < 1000; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await client.CallAsync(service.Name, "/", "org.freedesktop.DBus.Peer", "Ping", "", []);
            ping.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        for (var i = 0; i < 1000; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", ["x"]);
            echo.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        output.WriteLine($"Peer.Ping round trip over 1000 calls: median {Median(ping):0} µs (handled inside sd-bus)");
        output.WriteLine($"Echo round trip (managed handler, deferred reply, uid lookup) over 1000 calls: median {Median(echo):0} µs");
        Assert.Equal(1000, ping.Count);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
