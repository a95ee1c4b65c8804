namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// Fans each event out to every subscribed listener. The reader loop publishes; subscribing and
/// unsubscribing swap an immutable array, so publishing takes no lock.
/// </summary>
internal sealed class QmpEventHub
{
    private readonly Lock _lock = new();
    private QmpEventListener[] _listeners = [];
    private bool _closed;
    private Exception? _reason;

    public QmpEventListener Subscribe(string[] eventNames)
    {
        var listener = new QmpEventListener(this, eventNames);
        lock (_lock)
        {
            if (!_closed)
            {
                _listeners = [.. _listeners, listener];
                return listener;
            }
        }
        // Subscribed after the end: the listener reports the disconnect at once instead of hanging.
        listener.Complete(_reason);
        return listener;
    }

    public void Unsubscribe(QmpEventListener listener)
    {
        lock (_lock)
        {
            _listeners = Array.FindAll(_listeners, l => !ReferenceEquals(l, listener));
        }
    }

    public void Publish(QmpEvent qmpEvent)
    {
        foreach (QmpEventListener listener in Volatile.Read(ref _listeners))
        {
            listener.Offer(qmpEvent);
        }
    }

    /// <summary>Ends every listener; each still yields what it buffered before reporting the end.</summary>
    public void Close(Exception? reason)
    {
        QmpEventListener[] listeners;
        lock (_lock)
        {
            _closed = true;
            _reason = reason;
            listeners = _listeners;
            _listeners = [];
        }
        foreach (QmpEventListener listener in listeners)
        {
            listener.Complete(reason);
        }
    }
}
