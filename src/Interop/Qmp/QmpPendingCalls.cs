using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// Request ids mapped to the callers awaiting their replies. Registration and closing share one
/// lock, so a call registered before the connection ended is always failed by <see cref="Close"/>,
/// and one registered after is refused: no caller can be left waiting forever.
/// </summary>
internal sealed class QmpPendingCalls
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (string Command, TaskCompletionSource<JsonElement> Reply)> _calls = [];
    private long _lastId;
    private bool _closed;

    public long NextId() => Interlocked.Increment(ref _lastId);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _calls.Count;
            }
        }
    }

    /// <returns>The reply task, or null when the connection has already ended.</returns>
    public Task<JsonElement>? TryAdd(long id, string command)
    {
        // Asynchronous continuations: the reader loop completes these, and must never run caller code.
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_closed)
            {
                return null;
            }
            _calls.Add(id, (command, reply));
        }
        return reply.Task;
    }

    /// <summary>Forget a call whose caller stopped waiting; a late reply is then dropped as unknown.</summary>
    public void Remove(long id)
    {
        lock (_lock)
        {
            _calls.Remove(id);
        }
    }

    /// <summary>Completes the call with this reply's <c>return</c> or <c>error</c>.</summary>
    /// <returns>False when no call with this id is pending (cancelled, or never ours).</returns>
    public bool TryComplete(long id, JsonElement reply)
    {
        (string Command, TaskCompletionSource<JsonElement> Reply) call;
        lock (_lock)
        {
            if (!_calls.Remove(id, out call))
            {
                return false;
            }
        }

        if (reply.TryGetProperty("return", out JsonElement value))
        {
            call.Reply.TrySetResult(value.Clone());
        }
        else if (reply.TryGetProperty("error", out JsonElement error))
        {
            call.Reply.TrySetException(QmpExecuteException.FromError(call.Command, error));
        }
        else
        {
            call.Reply.TrySetException(new QmpProtocolException(
                $"Reply to '{call.Command}' has neither 'return' nor 'error'"));
        }
        return true;
    }

    /// <summary>Refuses new calls and fails every pending one with its own exception.</summary>
    public void Close(Func<string, Exception> createError)
    {
        (string Command, TaskCompletionSource<JsonElement> Reply)[] calls;
        lock (_lock)
        {
            _closed = true;
            calls = [.. _calls.Values];
            _calls.Clear();
        }
        foreach (var call in calls)
        {
            call.Reply.TrySetException(createError(call.Command));
        }
    }
}
