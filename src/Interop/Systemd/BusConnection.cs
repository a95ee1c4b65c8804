using System.Runtime.InteropServices;
using LocalMigrate.Interop.Systemd.Native;
using Serilog;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// One sd-bus connection driven by its own thread (<see cref="BusLoop"/>). Public members are thread-safe:
/// they post work to the bus thread and complete tasks from there. Method handlers and signal handlers run
/// on the thread pool, never on the bus thread; property getters run on the bus thread.
/// See sd-bus(3), sd_bus_add_object_vtable(3), sd_bus_call_async(3).
/// </summary>
public sealed class BusConnection : IAsyncDisposable
{
    /// <summary>sd-bus's default method call timeout (sd_bus_set_method_call_timeout(3)).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(25);

    // org.freedesktop.DBus.RequestName flag and results, https://dbus.freedesktop.org/doc/dbus-specification.html#bus-messages-request-name
    private const uint NameFlagDoNotQueue = 0x4;
    private const uint NameReplyPrimaryOwner = 1;
    private const uint NameReplyAlreadyOwner = 4;

    private static readonly ILogger Log = Serilog.Log.ForContext<BusConnection>();

    // Bus-thread state.
    private readonly HashSet<PendingCall> _pending = [];
    private readonly HashSet<InFlightCall> _inFlight = [];
    private readonly HashSet<IBusResource> _resources = [];
    private IntPtr _bus;

    private BusLoop _loop = null!;
    private int _disposed;

    private BusConnection(BusAddress address)
    {
        Address = address;
    }

    public BusAddress Address { get; }

    /// <summary>The connection's unique name on the bus, e.g. <c>:1.42</c>.</summary>
    public string UniqueName { get; private set; } = "";

    /// <summary>Completes when the connection has closed, whether disposed or dropped by the bus.</summary>
    public Task Closed => _loop.Stopped;

    /// <summary>
    /// Connects and says Hello. The address is passed explicitly (sd_bus_new, sd_bus_set_address,
    /// sd_bus_set_bus_client, sd_bus_start) because libsystemd cannot see managed environment changes.
    /// </summary>
    public static async Task<BusConnection> OpenAsync(BusAddress address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ct.ThrowIfCancellationRequested();
        var resolved = address.Resolve();
        var connection = new BusConnection(address);
        var start = BusLoop.StartAsync($"sd-bus {address}", loop => connection.Setup(loop, resolved), connection.Teardown);
        try
        {
            connection._loop = await start.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _ = start.ContinueWith(t => t.Result.RequestStop(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw;
        }

        return connection;
    }

    /// <summary>Requests a well-known name without queueing; fails if another connection owns it.</summary>
    public async Task RequestNameAsync(string name, CancellationToken ct = default)
    {
        var reply = await CallAsync(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
            "su", [name, NameFlagDoNotQueue], "u", ct: ct).ConfigureAwait(false);
        var result = (uint)reply[0];
        if (result is not (NameReplyPrimaryOwner or NameReplyAlreadyOwner))
        {
            throw new InvalidOperationException($"bus name {name} is already owned by another connection (RequestName returned {result})");
        }
    }

    /// <summary>Exports <paramref name="interfaces"/> at <paramref name="path"/>; dispose the result to remove them.</summary>
    public Task<IAsyncDisposable> AddObjectAsync(string path, params BusInterface[] interfaces)
    {
        CheckPath(path);
        if (interfaces.Length == 0)
        {
            throw new ArgumentException("at least one interface is needed", nameof(interfaces));
        }

        return InvokeAsync<IAsyncDisposable>(() =>
        {
            var registered = new List<ExportedInterface>();
            try
            {
                foreach (var iface in interfaces)
                {
                    var exported = new ExportedInterface(this, path, iface);
                    exported.Register(_bus);
                    registered.Add(exported);
                }
            }
            catch
            {
                registered.ForEach(r => r.Release());
                throw;
            }

            var resource = new ExportedObject(registered);
            _resources.Add(resource);
            return new BusRegistration(this, resource);
        });
    }

    /// <summary>Adds org.freedesktop.DBus.ObjectManager at <paramref name="path"/> (sd_bus_add_object_manager(3)).</summary>
    public Task<IAsyncDisposable> AddObjectManagerAsync(string path)
    {
        CheckPath(path);
        return InvokeAsync<IAsyncDisposable>(() =>
        {
            Errno.Check(SdBus.AddObjectManager(_bus, out var slot, path), $"sd_bus_add_object_manager({path})");
            var resource = new SlotResource(slot);
            _resources.Add(resource);
            return new BusRegistration(this, resource);
        });
    }

    /// <summary>InterfacesAdded for every interface at <paramref name="path"/> (sd_bus_emit_object_added(3)); needs an object manager above it.</summary>
    public Task EmitObjectAddedAsync(string path)
    {
        CheckPath(path);
        return InvokeAsync(() => Errno.Check(SdBus.EmitObjectAdded(_bus, path), $"sd_bus_emit_object_added({path})"));
    }

    /// <summary>InterfacesRemoved; call it before disposing the object's registration.</summary>
    public Task EmitObjectRemovedAsync(string path)
    {
        CheckPath(path);
        return InvokeAsync(() => Errno.Check(SdBus.EmitObjectRemoved(_bus, path), $"sd_bus_emit_object_removed({path})"));
    }

    /// <summary>
    /// PropertiesChanged for <paramref name="names"/>; values come from the getters on the bus thread.
    /// The properties must be declared <see cref="BusPropertyFlags.EmitsChange"/> or EmitsInvalidation.
    /// </summary>
    public unsafe Task EmitPropertiesChanged(string path, string iface, params string[] names)
    {
        CheckPath(path);
        return InvokeAsync(() =>
        {
            var pointers = new IntPtr[names.Length + 1];
            try
            {
                for (var i = 0; i < names.Length; i++)
                {
                    pointers[i] = Marshal.StringToCoTaskMemUTF8(names[i]);
                }

                fixed (IntPtr* strv = pointers)
                {
                    Errno.Check(SdBus.EmitPropertiesChangedStrv(_bus, path, iface, strv), $"PropertiesChanged {path} {iface}");
                }
            }
            finally
            {
                foreach (var pointer in pointers)
                {
                    Marshal.FreeCoTaskMem(pointer);
                }
            }
        });
    }

    /// <summary>Emits a signal; the task completes once it is queued for sending.</summary>
    public Task EmitSignal(string path, string iface, string member, string signature, params object?[] args)
    {
        CheckPath(path);
        BusSignatureParser.Split(signature);
        return InvokeAsync(() =>
        {
            Errno.Check(SdBusMessage.NewSignal(_bus, out var message, path, iface, member), $"sd_bus_message_new_signal({iface}.{member})");
            try
            {
                MessageWriter.WriteAll(message, signature, args);
                Errno.Check(SdBus.Send(_bus, message, IntPtr.Zero), $"sending {iface}.{member}");
            }
            finally
            {
                SdBusMessage.Unref(message);
            }
        });
    }

    /// <summary>
    /// Calls a method and returns the reply's values, read by the reply's own signature.
    /// Error replies throw <see cref="BusErrorException"/>; the timeout throws <see cref="TimeoutException"/>;
    /// closing the connection throws <see cref="BusClosedException"/>.
    /// </summary>
    /// <param name="replySignature">If given, a reply with another signature fails with InvalidDataException.</param>
    public async Task<object[]> CallAsync(
        string destination,
        string path,
        string iface,
        string member,
        string signature,
        object?[] args,
        string? replySignature = null,
        TimeSpan? timeout = null,
        CancellationToken ct = default)
    {
        CheckPath(path);
        BusSignatureParser.Split(signature);
        ct.ThrowIfCancellationRequested();
        var limit = timeout ?? DefaultTimeout;
        var description = $"{destination} {path} {iface}.{member}";
        var pending = new PendingCall(this, description, replySignature);
        if (!_loop.Post(() => StartCall(pending, destination, path, iface, member, signature, args)))
        {
            throw new BusClosedException($"cannot call {description}: the connection is closed");
        }

        using var timeoutSource = new CancellationTokenSource(limit);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        await using var registration = linked.Token.Register(() => _loop.Post(() => pending.Fail(
            ct.IsCancellationRequested
                ? new OperationCanceledException($"call {description} was cancelled", ct)
                : new TimeoutException($"{description} did not reply within {limit.TotalMilliseconds:0} ms")))).ConfigureAwait(false);
        return await pending.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes to messages matching <paramref name="rule"/> (match rule syntax of the D-Bus specification),
    /// once the bus driver has accepted the rule. Disposing unsubscribes.
    /// </summary>
    public async Task<IAsyncDisposable> AddMatchAsync(string rule, Action<BusSignal> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new MatchSubscription(this, rule, handler);
        try
        {
            await InvokeAsync(() =>
            {
                subscription.Register(_bus);
                _resources.Add(subscription);
            }).ConfigureAwait(false);
            await subscription.Installed.ConfigureAwait(false);
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _loop.RequestStop();
        }

        // A handler running on the bus thread cannot wait for the bus thread to finish.
        if (!_loop.IsCurrentThread)
        {
            await _loop.Stopped.ConfigureAwait(false);
        }
    }

    internal bool ForgetPending(PendingCall call) => _pending.Remove(call);

    internal void PostSlotUnref(IntPtr slot) => _loop.Post(() => SdBus.SlotUnref(slot));

    internal void PostRelease(IBusResource resource) => _loop.Post(() => ReleaseNow(resource));

    internal Task ReleaseAsync(IBusResource resource)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_loop.Post(() =>
        {
            ReleaseNow(resource);
            done.TrySetResult();
        }))
        {
            // Closed: the teardown has released (or is releasing) everything.
            return _loop.Stopped;
        }

        return done.Task;
    }

    /// <summary>
    /// The caller's effective uid: sd_bus_query_sender_creds(3) with SD_BUS_CREDS_EUID. dbus-daemon attaches
    /// no credentials to messages, so sd-bus asks the bus driver (GetConnectionUnixUser, a blocking round trip
    /// on the bus thread); that uid comes from SO_PEERCRED at connect time, which is what authorization needs.
    /// </summary>
    internal uint QuerySenderUid(IntPtr message)
    {
        Errno.Check(SdBus.QuerySenderCreds(message, SdBus.CredsEuid, out var creds), "sd_bus_query_sender_creds");
        try
        {
            Errno.Check(SdBus.CredsGetEuid(creds, out var uid), "sd_bus_creds_get_euid");
            return uid;
        }
        finally
        {
            SdBus.CredsUnref(creds);
        }
    }

    /// <summary>Bus thread: keeps the call message referenced and runs the handler on the thread pool.</summary>
    internal void Dispatch(IntPtr message, BusMethodDescription method, BusMethodCall call)
    {
        var inFlight = new InFlightCall(SdBusMessage.Ref(message), method.OutSignature);
        _inFlight.Add(inFlight);
        _ = RunHandlerAsync(inFlight, method, call);
    }

    private async Task RunHandlerAsync(InFlightCall inFlight, BusMethodDescription method, BusMethodCall call)
    {
        object?[]? result = null;
        Exception? failure = null;
        try
        {
            result = await Task.Run(() => method.Handler(call)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        if (!_loop.Post(() => Reply(inFlight, result, failure)))
        {
            Log.Debug("Reply to {Interface}.{Member} dropped: the connection is closed", call.Interface, call.Member);
        }
    }

    private void Reply(InFlightCall inFlight, object?[]? result, Exception? failure)
    {
        if (!_inFlight.Remove(inFlight))
        {
            return;
        }

        try
        {
            if (SdBusMessage.GetExpectReply(inFlight.Message) <= 0)
            {
                return;
            }

            if (failure is null)
            {
                try
                {
                    SendReturn(inFlight, result ?? []);
                    return;
                }
                catch (Exception e)
                {
                    failure = new InvalidOperationException($"the reply could not be serialized as '{inFlight.OutSignature}': {e.Message}", e);
                }
            }

            SendError(inFlight.Message, failure);
        }
        finally
        {
            SdBusMessage.Unref(inFlight.Message);
        }
    }

    private static void SendReturn(InFlightCall inFlight, object?[] values)
    {
        Errno.Check(SdBusMessage.NewMethodReturn(inFlight.Message, out var reply), "sd_bus_message_new_method_return");
        try
        {
            MessageWriter.WriteAll(reply, inFlight.OutSignature, values);
            Errno.Check(SdBus.Send(IntPtr.Zero, reply, IntPtr.Zero), "sending a method return");
        }
        finally
        {
            SdBusMessage.Unref(reply);
        }
    }

    private static void SendError(IntPtr call, Exception failure)
    {
        var (name, text) = failure is BusErrorException busError
            ? (busError.ErrorName, busError.Message)
            : (BusErrorNames.Failed, failure.Message);
        if (failure is not BusErrorException)
        {
            Log.Warning(failure, "Method handler failed");
        }

        if (TrySendError(call, name, text) < 0)
        {
            // Most likely an invalid error name; the caller still deserves an answer.
            Errno.Check(TrySendError(call, BusErrorNames.Failed, $"{name}: {text}"), "sd_bus_reply_method_error");
        }
    }

    private static unsafe int TrySendError(IntPtr call, string name, string text)
    {
        SdBusError error = default;
        try
        {
            SdBus.ErrorSet(&error, name, text);
            return error.Name == IntPtr.Zero ? -22 : SdBus.ReplyMethodError(call, &error);
        }
        finally
        {
            SdBus.ErrorFree(&error);
        }
    }

    private void StartCall(PendingCall pending, string destination, string path, string iface, string member, string signature, object?[] args)
    {
        IntPtr message = IntPtr.Zero;
        try
        {
            Errno.Check(SdBusMessage.NewMethodCall(_bus, out message, destination, path, iface, member), $"sd_bus_message_new_method_call({iface}.{member})");
            MessageWriter.WriteAll(message, signature, args);
            pending.Start(_bus, message);
            _pending.Add(pending);
        }
        catch (Exception e)
        {
            pending.FailBeforeStart(e);
        }
        finally
        {
            if (message != IntPtr.Zero)
            {
                SdBusMessage.Unref(message);
            }
        }
    }

    private Task InvokeAsync(Action work) => InvokeAsync<bool>(() =>
    {
        work();
        return true;
    });

    private Task<T> InvokeAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_loop.Post(() =>
        {
            try
            {
                done.TrySetResult(work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        }))
        {
            done.TrySetException(new BusClosedException("the connection is closed"));
        }

        return done.Task;
    }

    private void ReleaseNow(IBusResource resource)
    {
        if (_resources.Remove(resource))
        {
            resource.Release();
        }
    }

    private void Setup(BusLoop loop, string address)
    {
        Errno.Check(SdBus.New(out _bus), "sd_bus_new");
        Errno.Check(SdBus.SetAddress(_bus, address), $"sd_bus_set_address({address})");
        Errno.Check(SdBus.SetBusClient(_bus, 1), "sd_bus_set_bus_client");
        Errno.Check(SdBus.SetDescription(_bus, "localmigrate"), "sd_bus_set_description");

        // When the bus drops us, sd-bus exits the attached event loop; the teardown then fails everything pending.
        Errno.Check(SdBus.SetExitOnDisconnect(_bus, 1), "sd_bus_set_exit_on_disconnect");
        Errno.Check(SdBus.Start(_bus), $"connecting to {address}");
        Errno.Check(SdBus.AttachEvent(_bus, loop.Event, 0), "sd_bus_attach_event");

        // Blocks this (not yet serving) thread until Hello has been answered.
        Errno.Check(SdBus.GetUniqueName(_bus, out var unique), $"Hello on {address}");
        UniqueName = Marshal.PtrToStringUTF8(unique)!;
    }

    private void Teardown()
    {
        foreach (var pending in _pending.ToArray())
        {
            pending.Fail(new BusClosedException("the connection was closed before the reply arrived"));
        }

        foreach (var resource in _resources.ToArray())
        {
            resource.Release();
        }

        _resources.Clear();
        foreach (var inFlight in _inFlight)
        {
            SdBusMessage.Unref(inFlight.Message);
        }

        _inFlight.Clear();
        if (_bus != IntPtr.Zero)
        {
            SdBus.FlushCloseUnref(_bus);
            _bus = IntPtr.Zero;
        }
    }

    private static void CheckPath(string path)
    {
        if (!BusObjectPath.IsValid(path))
        {
            throw new ArgumentException($"'{path}' is not a valid D-Bus object path", nameof(path));
        }
    }
}
