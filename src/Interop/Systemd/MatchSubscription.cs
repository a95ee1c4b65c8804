using System.Runtime.InteropServices;
using System.Threading.Channels;
using LocalMigrate.Interop.Systemd.Native;
using Serilog;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// A match rule added with sd_bus_add_match_async(3). Matched messages are parsed on the bus thread and handed,
/// in order, to the handler on a task of their own, so a slow handler never stalls the bus.
/// </summary>
internal sealed class MatchSubscription : IBusResource, IAsyncDisposable
{
    private static readonly ILogger Log = Serilog.Log.ForContext<MatchSubscription>();

    private readonly BusConnection _owner;
    private readonly string _rule;
    private readonly Action<BusSignal> _handler;
    private readonly Channel<BusSignal> _signals = Channel.CreateUnbounded<BusSignal>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource _installed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _consumer;
    private GCHandle _handle;
    private IntPtr _slot;

    public MatchSubscription(BusConnection owner, string rule, Action<BusSignal> handler)
    {
        _owner = owner;
        _rule = rule;
        _handler = handler;
        _consumer = System.Threading.Tasks.Task.Run(ConsumeAsync);
    }

    /// <summary>Completes when the bus driver has acknowledged AddMatch.</summary>
    public Task Installed => _installed.Task;

    public unsafe void Register(IntPtr bus)
    {
        _handle = GCHandle.Alloc(this);
        var rc = SdBus.AddMatchAsync(bus, out _slot, _rule, &NativeCallbacks.OnMatch, &NativeCallbacks.OnMatchInstalled, GCHandle.ToIntPtr(_handle));
        if (rc < 0)
        {
            Release();
            Errno.Check(rc, $"sd_bus_add_match_async({_rule})");
        }
    }

    public unsafe void OnInstalled(IntPtr reply)
    {
        var error = SdBusMessage.GetError(reply);
        if (error is not null && error->Name != IntPtr.Zero)
        {
            _installed.TrySetException(new BusErrorException(Marshal.PtrToStringUTF8(error->Name)!, Marshal.PtrToStringUTF8(error->Message) ?? ""));
            _owner.PostRelease(this);
            return;
        }

        _installed.TrySetResult();
    }

    public void OnMessage(IntPtr message)
    {
        var signal = new BusSignal(
            Marshal.PtrToStringUTF8(SdBusMessage.GetPath(message)) ?? "",
            Marshal.PtrToStringUTF8(SdBusMessage.GetInterface(message)) ?? "",
            Marshal.PtrToStringUTF8(SdBusMessage.GetMember(message)) ?? "",
            Marshal.PtrToStringUTF8(SdBusMessage.GetSender(message)),
            Marshal.PtrToStringUTF8(SdBusMessage.GetSignature(message, 1)) ?? "",
            MessageReader.ReadAll(message));
        _signals.Writer.TryWrite(signal);
    }

    public void Release()
    {
        if (_slot != IntPtr.Zero)
        {
            SdBus.SlotUnref(_slot); // sd-bus sends RemoveMatch itself
            _slot = IntPtr.Zero;
        }

        if (_handle.IsAllocated)
        {
            _handle.Free();
        }

        _installed.TrySetException(new BusClosedException($"match '{_rule}' removed before it was installed"));
        _signals.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        await _owner.ReleaseAsync(this).ConfigureAwait(false);
        _signals.Writer.TryComplete();
        await _consumer.ConfigureAwait(false);
    }

    private async Task ConsumeAsync()
    {
        await foreach (var signal in _signals.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                _handler(signal);
            }
            catch (Exception e)
            {
                Log.Error(e, "Signal handler for {Rule} failed", _rule);
            }
        }
    }
}
