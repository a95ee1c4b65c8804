using System.Diagnostics;
using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Api;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

/// <summary>
/// The dispatcher on a real dbus-daemon with Tmds.DBus.Protocol, serving an interface of the test's own (so a handler can
/// throw or take its time), called by busctl, the client operators use.
/// </summary>
public sealed class BusObjectTreeTests : IAsyncLifetime
{
    private const string Interface = "org.localmigrate1.Test";
    private const string ObjectPath = "/org/localmigrate1/test";
    private static readonly BusMethod Echo = new(Interface, "Echo", [new("text", "s")], [new("echo", "s")]);
    private static readonly BusMethod Slow = new(Interface, "Slow", [new("ms", "u")], [new("slept", "u")]);
    private static readonly BusMethod Throw = new(Interface, "Throw", [], []);
    private static readonly BusProperty Count = new(Interface, "Count", "u", PropertyEmits.Value);
    private static readonly BusInterfaceContract Contract = new(Interface, [Echo, Slow, Throw], [Count]);

    private readonly string _directory = Directory.CreateTempSubdirectory("lm-tree-").FullName;
    private TestBus? _bus;
    private DBusConnection? _server;
    private ExportedObject? _object;
    private uint _count = 7;

    public async Task InitializeAsync()
    {
        _bus = new TestBus(_directory);
        _server = new DBusConnection(new DBusConnectionOptions(_bus.Address)
        {
            AutoConnect = false,
            OnException = c => c.DisconnectConnection = c.Source == DBusConnection.ExceptionSource.ConnectionFailed,
        });
        await _server.ConnectAsync();
        var tree = new BusObjectTree(NullLogger.Instance);
        _object = new ExportedObject(ObjectPath, new ExportedInterface(Contract)
            .On(Echo, call => Task.FromResult<object?[]>([(string)call.Args[0]!]))
            .On(Slow, async call =>
            {
                await Task.Delay((int)(uint)call.Args[0]!);
                return [(uint)call.Args[0]!];
            })
            .On(Throw, _ => throw new NullReferenceException("a bug in a handler"))
            .Get(Count, () => VariantValue.UInt32(_count))
            .Complete());
        tree.Add(_object);
        _server.AddMethodHandler(tree);
        await _server.RequestNameAsync("org.localmigrate1.test", RequestNameOptions.None);
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        _bus?.Dispose();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    private Task<CommandResult> Busctl(params string[] args) =>
        ProcessRunner.RunAsync("busctl", new[] { $"--address={_bus!.Address}" }.Concat(args));

    private Task<CommandResult> Call(string path, string member, params string[] args) =>
        Busctl(new[] { "call", "org.localmigrate1.test", path, Interface, member }.Concat(args).ToArray());

    [Fact]
    public async Task HandleMethodAsync_AHandlerThrows_ThatCallGetsAnErrorAndTheConnectionStaysUp()
    {
        var thrown = await Call(ObjectPath, "Throw");
        Assert.NotEqual(0, thrown.ExitCode);
        Assert.Contains("a bug in a handler", thrown.Stderr);
        var echo = await Call(ObjectPath, "Echo", "s", "still here");
        Assert.Equal("s \"still here\"", echo.Stdout.Trim());
    }

    [Fact]
    public async Task HandleMethodAsync_ALongCall_DoesNotHoldUpOtherCalls()
    {
        var slow = Call(ObjectPath, "Slow", "u", "3000");
        await Task.Delay(300);
        var clock = Stopwatch.StartNew();
        var echo = await Call(ObjectPath, "Echo", "s", "fast");
        var fastMs = clock.ElapsedMilliseconds;
        Assert.Equal("s \"fast\"", echo.Stdout.Trim());
        Assert.False(slow.IsCompleted, $"the slow call ended before the fast one ({fastMs} ms)");
        Assert.Equal("u 3000", (await slow).Stdout.Trim());
    }

    [Fact]
    public async Task HandleMethodAsync_BadRequests_AnswerTheStandardErrors()
    {
        var unknownObject = await Call("/org/localmigrate1/nope", "Echo", "s", "x");
        Assert.Contains("Unknown object '/org/localmigrate1/nope'", unknownObject.Stderr);
        var unknownMethod = await Call(ObjectPath, "Nope");
        Assert.Contains("Unknown method Nope", unknownMethod.Stderr);
        var badSignature = await Call(ObjectPath, "Echo", "u", "5");
        Assert.Contains("Invalid arguments 'u' to call org.localmigrate1.Test.Echo(), expecting 's'", badSignature.Stderr);
        var set = await Busctl("set-property", "org.localmigrate1.test", ObjectPath, Interface, "Count", "u", "9");
        Assert.Contains("Property 'Count' is not writable", set.Stderr);
        // dbus-send prints the error names themselves.
        var names = await ProcessRunner.RunAsync("dbus-send", [$"--bus={_bus!.Address}", "--print-reply", "--dest=org.localmigrate1.test",
            "/org/localmigrate1/nope", $"{Interface}.Echo", "string:x"]);
        Assert.Contains(BusContract.StandardErrors.UnknownObject, names.Stderr);
        names = await ProcessRunner.RunAsync("dbus-send", [$"--bus={_bus!.Address}", "--print-reply", "--dest=org.localmigrate1.test",
            ObjectPath, $"{Interface}.Echo", "uint32:5"]);
        Assert.Contains(BusContract.StandardErrors.InvalidArgs, names.Stderr);
    }

    [Fact]
    public async Task Properties_GetGetAllPingAndIntrospect_AnswerFromTheContract()
    {
        Assert.Equal("u 7", (await Busctl("get-property", "org.localmigrate1.test", ObjectPath, Interface, "Count")).Stdout.Trim());
        Assert.Equal(0, (await Busctl("call", "org.localmigrate1.test", ObjectPath, "org.freedesktop.DBus.Peer", "Ping")).ExitCode);
        var introspect = await Busctl("introspect", "org.localmigrate1.test", ObjectPath);
        Assert.Matches(@"\.Echo\s+method\s+s\s+s", introspect.Stdout);
        Assert.Matches(@"\.Count\s+property\s+u\s+7\s+emits-change", introspect.Stdout);
        var tree = await Busctl("tree", "org.localmigrate1.test");
        Assert.Contains("/org/localmigrate1/test", tree.Stdout);
    }

    [Fact]
    public async Task Announce_AValueChanged_IsSentOnceWithItsNewValue()
    {
        using var recorder = await PropertiesChangedRecorder.StartAsync(_bus!.Address, ObjectPath);
        _object!.MarkAnnounced();
        _count = 8;
        _object.Announce((changed, invalidated) => BusSignals.PropertiesChanged(_server!, ObjectPath, Interface, changed, invalidated));
        _object.Announce((changed, invalidated) => BusSignals.PropertiesChanged(_server!, ObjectPath, Interface, changed, invalidated));
        await Poll.UntilAsync(() => recorder.Values(ObjectPath, "Count").Count > 0, TimeSpan.FromSeconds(10), "PropertiesChanged of Count");
        await Task.Delay(200);
        Assert.Equal([8u], recorder.Values(ObjectPath, "Count").Select(v => v.GetUInt32()));
    }
}
