using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// A subscription to QMP events, from <see cref="QmpClient.Listen"/>. Events are buffered without
/// bound from the moment of subscription, so subscribe before sending the command that causes them.
/// Names match exactly as QEMU spells them ("STOP", "MIGRATION"); none means every event.
/// Dispose unsubscribes.
/// </summary>
public sealed class QmpEventListener : IDisposable
{
    private readonly QmpEventHub _hub;
    private readonly HashSet<string>? _names;
    // Unbounded: the reader loop must never block on a slow listener, or replies would stall too.
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>();
    private Exception? _reason;
    private int _disposed;

    internal QmpEventListener(QmpEventHub hub, string[]? eventNames)
    {
        _hub = hub;
        _names = eventNames is { Length: > 0 } ? new HashSet<string>(eventNames, StringComparer.Ordinal) : null;
    }

    /// <summary>The next matching event.</summary>
    /// <exception cref="QmpDisconnectedException">The client disconnected and the buffer is drained.</exception>
    /// <exception cref="ObjectDisposedException">This listener was disposed and the buffer is drained.</exception>
    public async ValueTask<QmpEvent> NextAsync(CancellationToken cancellationToken = default)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_events.Reader.TryRead(out QmpEvent? qmpEvent))
            {
                return qmpEvent;
            }
        }
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        throw new QmpDisconnectedException("QMP connection ended", Volatile.Read(ref _reason));
    }

    /// <summary>Skips events until one satisfies <paramref name="predicate"/>.</summary>
    public async Task<QmpEvent> WaitForAsync(Func<QmpEvent, bool> predicate, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            QmpEvent qmpEvent = await NextAsync(cancellationToken).ConfigureAwait(false);
            if (predicate(qmpEvent))
            {
                return qmpEvent;
            }
        }
    }

    /// <summary>Every matching event; ends quietly when the client disconnects or this is disposed.</summary>
    public async IAsyncEnumerable<QmpEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (QmpEvent qmpEvent in _events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return qmpEvent;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _hub.Unsubscribe(this);
            _events.Writer.TryComplete();
        }
    }

    internal void Offer(QmpEvent qmpEvent)
    {
        if (_names is null || _names.Contains(qmpEvent.Name))
        {
            _events.Writer.TryWrite(qmpEvent);
        }
    }

    internal void Complete(Exception? reason)
    {
        Volatile.Write(ref _reason, reason);
        _events.Writer.TryComplete();
    }
}
