using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

/// <summary>A server connection exporting org.localmigrate1.Test at <see cref="ObjectPath"/>, for the bus tests.</summary>
internal sealed class TestService : IAsyncDisposable
{
    public const string Interface = "org.localmigrate1.Test";
    public const string ObjectPath = "/org/localmigrate1/test";

    private TestService(BusConnection connection, IAsyncDisposable registration)
    {
        Connection = connection;
        Registration = registration;
    }

    public BusConnection Connection { get; }

    public IAsyncDisposable Registration { get; }

    public string Name => Connection.UniqueName;

    public uint Progress { get; set; }

    public BusMethodCall? LastCall { get; private set; }

    /// <summary>Completes when a call to Held has reached its handler.</summary>
    public TaskCompletionSource HeldStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Held's handler returns once this completes; <see cref="HeldReturned"/> completes right after.</summary>
    public TaskCompletionSource HeldRelease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource HeldReturned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<TestService> StartAsync(PrivateDbusDaemon daemon)
    {
        var connection = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        TestService? service = null;
        var iface = new BusInterfaceBuilder(Interface)
            .Method("Echo", "s", "s", call => Task.FromResult<object?[]>([call.Args[0]]), ["text"], ["echoed"])
            .Method("RoundTrip", "a{sv}o", "a{sv}o", call => Task.FromResult<object?[]>([call.Args[0], call.Args[1]]), ["options", "job"], ["options", "job"])
            .Method("Slow", "u", "s", async call =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds((uint)call.Args[0]));
                return ["slow"];
            })
            .Method("Held", "", "s", async _ =>
            {
                service!.HeldStarted.TrySetResult();
                await service.HeldRelease.Task;
                service.HeldReturned.TrySetResult();
                return ["held"];
            })
            .Method("Fail", "ss", "", call => throw new BusErrorException((string)call.Args[0], (string)call.Args[1]))
            .Method("Crash", "", "", _ => throw new InvalidOperationException("boom"))
            .Method("WhoAmI", "", "u", call =>
            {
                service!.LastCall = call;
                return Task.FromResult<object?[]>([call.SenderUid]);
            })
            .Method("BadReply", "", "u", _ => Task.FromResult<object?[]>(["not a number"]))
            .Property("Name", "s", () => "domain-a", BusPropertyFlags.Const)
            .Property("Progress", "u", () => service!.Progress, BusPropertyFlags.EmitsChange)
            .Signal("Progressed", "u", ["progress"])
            .Build();
        var registration = await connection.AddObjectAsync(ObjectPath, iface);
        service = new TestService(connection, registration);
        return service;
    }

    public async ValueTask DisposeAsync()
    {
        await Registration.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
