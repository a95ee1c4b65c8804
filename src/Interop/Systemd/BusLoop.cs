using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using LocalMigrate.Interop.Systemd.Native;
using Serilog;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// The one thread that calls libsystemd for a connection: it runs sd_event_loop(3) and executes work posted
/// from other threads through an eventfd(2) watched by that loop. On wake-up it reads the eventfd, then
/// clears the pending flag, then drains the queue; clearing before reading would lose wake-ups.
/// </summary>
internal sealed class BusLoop
{
    private static readonly ILogger Log = Serilog.Log.ForContext<BusLoop>();

    private readonly ConcurrentQueue<Action> _queue = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private readonly Action<BusLoop> _setup;
    private readonly Action _teardown;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _wakePending;
    private bool _closed;
    private int _eventFd = -1;
    private IntPtr _event;
    private IntPtr _eventSource;
    private GCHandle _self;

    private BusLoop(string name, Action<BusLoop> setup, Action teardown)
    {
        _setup = setup;
        _teardown = teardown;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>The sd_event the bus is attached to; valid on the loop thread while running.</summary>
    public IntPtr Event => _event;

    /// <summary>Completes once the loop has exited and the teardown has run.</summary>
    public Task Stopped => _stopped.Task;

    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>Starts the thread, runs <paramref name="setup"/> on it, and completes when setup has finished.</summary>
    public static async Task<BusLoop> StartAsync(string name, Action<BusLoop> setup, Action teardown)
    {
        var loop = new BusLoop(name, setup, teardown);
        loop._thread.Start();
        await loop._started.Task.ConfigureAwait(false);
        return loop;
    }

    /// <summary>Queues work for the loop thread. False once the loop is closing: the work will never run.</summary>
    public unsafe bool Post(Action work)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _queue.Enqueue(work);

            // The write happens under the lock so it can never hit a closed (and maybe reused) descriptor.
            if (Interlocked.Exchange(ref _wakePending, 1) == 0)
            {
                ulong one = 1;
                LibC.Write(_eventFd, &one, sizeof(ulong));
            }
        }

        return true;
    }

    /// <summary>Asks the loop to exit; the teardown then runs on the loop thread.</summary>
    public void RequestStop() => Post(() => SdEvent.Exit(_event, 0));

    private unsafe void Run()
    {
        try
        {
            Errno.Check(SdEvent.New(out _event), "sd_event_new");
            _eventFd = LibC.EventFd(0, LibC.EfdCloexec | LibC.EfdNonblock);
            if (_eventFd < 0)
            {
                throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
            }

            _self = GCHandle.Alloc(this);
            Errno.Check(
                SdEvent.AddIo(_event, out _eventSource, _eventFd, SdEvent.EpollIn, &NativeCallbacks.OnWake, GCHandle.ToIntPtr(_self)),
                "sd_event_add_io");
            _setup(this);
        }
        catch (Exception e)
        {
            Close();
            RunTeardown();
            ReleaseLoop();
            _started.SetException(e);
            _stopped.TrySetResult();
            return;
        }

        _started.SetResult();
        var rc = SdEvent.Loop(_event);
        if (rc < 0)
        {
            Log.Error("sd_event_loop failed with errno {Errno}", -rc);
        }

        Close();
        DrainQueue(int.MaxValue);
        RunTeardown();
        ReleaseLoop();
        _stopped.TrySetResult();
    }

    /// <summary>Called from sd-event when the eventfd is readable.</summary>
    internal unsafe void OnWake()
    {
        ulong counter;
        LibC.Read(_eventFd, &counter, sizeof(ulong));

        // A full fence, not a release store: x86 lets a plain store wait in the store buffer while the queue is read
        // below, so a Post in between would see the flag still set, skip the eventfd write, and its work would sit
        // in the queue until some later Post (seen as a Peer.Ping left unanswered for its whole 25 s timeout, once in a few
        // thousand calls).
        Interlocked.Exchange(ref _wakePending, 0);

        // Only what is queued now: work that posts more work must not starve the bus.
        DrainQueue(_queue.Count);
    }

    private void DrainQueue(int max)
    {
        for (var i = 0; i < max && _queue.TryDequeue(out var work); i++)
        {
            try
            {
                work();
            }
            catch (Exception e)
            {
                Log.Error(e, "Bus loop work item failed");
            }
        }
    }

    private void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }
    }

    private void RunTeardown()
    {
        try
        {
            _teardown();
        }
        catch (Exception e)
        {
            Log.Error(e, "Bus teardown failed");
        }
    }

    private void ReleaseLoop()
    {
        if (_eventSource != IntPtr.Zero)
        {
            SdEvent.SourceUnref(_eventSource);
            _eventSource = IntPtr.Zero;
        }

        if (_eventFd >= 0)
        {
            LibC.Close(_eventFd);
            _eventFd = -1;
        }

        if (_event != IntPtr.Zero)
        {
            SdEvent.Unref(_event);
            _event = IntPtr.Zero;
        }

        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }
}
