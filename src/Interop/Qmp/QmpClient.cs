using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using Serilog;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// An asynchronous QMP client, modelled on qemu's python/qemu/qmp: greeting, qmp_capabilities,
/// then one reader loop that routes replies to pending calls by id and events to listeners.
/// Thread-safe. See <see cref="Disconnected"/> for how the connection ends.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly QmpLineReader _lines;
    private readonly QmpRequestWriter _writer;
    private readonly QmpPendingCalls _pending = new();
    private readonly QmpEventHub _events = new();
    private readonly TaskCompletionSource<Exception?> _disconnected =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Never disposed: calls racing with DisposeAsync still read its Token, and a source without a
    // timer holds nothing that needs releasing.
    private readonly CancellationTokenSource _lifetime = new();
    private readonly QmpMessageRouter _router;
    private readonly ILogger _log;
    private readonly TimeSpan _commandTimeout;
    private readonly TimeProvider _timeProvider;
    private Task _readerLoop = Task.CompletedTask;
    private Exception? _reason;
    private int _closed;

    private QmpClient(string socketPath, Socket socket, QmpClientOptions options)
    {
        _stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(_stream);
        _lines = new QmpLineReader(_input, options.MaxMessageBytes);
        _writer = new QmpRequestWriter(_stream);
        // Resolved per client, not in a static field, so it follows the logger the host configures.
        _log = Log.ForContext<QmpClient>().ForContext("QmpSocket", socketPath);
        _router = new QmpMessageRouter(_pending, _events, _log);
        _commandTimeout = options.CommandTimeout;
        _timeProvider = options.TimeProvider;
    }

    /// <summary>Kebab-case-lower naming, nulls omitted, enums as kebab-case strings: QAPI's conventions.</summary>
    public static JsonSerializerOptions SerializerOptions => QmpJson.Options;

    /// <summary>Set during <see cref="ConnectAsync"/>, before the client is handed out.</summary>
    public QmpGreeting Greeting { get; private set; } = null!;

    public bool IsConnected => Volatile.Read(ref _closed) == 0;

    /// <summary>
    /// Completes, never faults, when the connection ends for any reason. The result is the reason:
    /// <see cref="EndOfStreamException"/> when QEMU closed it (e.g. after <c>quit</c>; also for a
    /// reset, which is how Linux reports a close that left some of our bytes unread),
    /// <see cref="QmpProtocolException"/>, a socket error, or null after a local dispose.
    /// </summary>
    public Task<Exception?> Disconnected => _disconnected.Task;

    /// <summary>Calls awaiting a reply; lets tests see that cancelled calls leave nothing behind.</summary>
    internal int PendingCallCount => _pending.Count;

    /// <summary>Connects, reads the greeting, negotiates capabilities and starts the reader loop.</summary>
    /// <exception cref="QmpProtocolException">Bad greeting, refused or timed-out negotiation.</exception>
    /// <exception cref="SocketException">No listener at <paramref name="socketPath"/> within the connect timeout.</exception>
    public static async Task<QmpClient> ConnectAsync(
        string socketPath, QmpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        options ??= new QmpClientOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxMessageBytes);
        ThrowIfBadTimeout(options.CommandTimeout, nameof(options.CommandTimeout));

        Socket socket = await QmpSocketConnector.ConnectAsync(socketPath, options.ConnectTimeout, cancellationToken)
            .ConfigureAwait(false);
        var client = new QmpClient(socketPath, socket, options);
        try
        {
            client.Greeting = await QmpNegotiator.NegotiateAsync(
                client._lines, client._writer, client._pending.NextId(), options.NegotiationTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            client.Close(null);
            await client._input.CompleteAsync().ConfigureAwait(false);
            throw;
        }
        client._log.Debug("QMP connected to QEMU {Version} ({Package})", client.Greeting.Version, client.Greeting.Package);
        client._readerLoop = client.RunReaderAsync();
        return client;
    }

    /// <summary>
    /// Runs a command and returns a detached clone of its <c>return</c> value, within the client's
    /// <see cref="QmpClientOptions.CommandTimeout"/>. Cancelling stops the wait only: once sent, the
    /// command may still run in QEMU, and its late reply is dropped.
    /// </summary>
    /// <param name="arguments">Null, a JsonNode/JsonElement, or any object serialised with <see cref="SerializerOptions"/>.</param>
    /// <exception cref="QmpExecuteException">QEMU replied with an error.</exception>
    /// <exception cref="QmpDisconnectedException">The connection ended before the reply, or had already ended.</exception>
    /// <exception cref="QmpTimeoutException">No reply within the deadline.</exception>
    public Task<JsonElement> ExecuteAsync(
        string command, object? arguments = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync(command, arguments, _commandTimeout, cancellationToken);

    /// <summary><see cref="ExecuteAsync(string, object?, CancellationToken)"/> with its own deadline.</summary>
    /// <param name="timeout">How long to wait for the reply; <see cref="Timeout.InfiniteTimeSpan"/> for no deadline.</param>
    public async Task<JsonElement> ExecuteAsync(
        string command, object? arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        ThrowIfBadTimeout(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await ExecuteUntilAsync(command, arguments, cancellationToken).ConfigureAwait(false);
        }
        using var deadline = new CancellationTokenSource(timeout, _timeProvider);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await ExecuteUntilAsync(command, arguments, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QmpTimeoutException(command, timeout);
        }
    }

    private async Task<JsonElement> ExecuteUntilAsync(string command, object? arguments, CancellationToken cancellationToken)
    {
        long id = _pending.NextId();
        byte[] request = QmpRequestWriter.Format(command, arguments, id);
        // Registered before sending, so even an immediate reply finds its caller.
        Task<JsonElement> reply = _pending.TryAdd(id, command)
            ?? throw new QmpDisconnectedException($"QMP connection has ended; '{command}' was not sent", Volatile.Read(ref _reason));
        try
        {
            await _writer.WriteAsync(request, cancellationToken, _lifetime.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _pending.Remove(id);
            throw;
        }
        catch (Exception ex)
        {
            // A failed write leaves the stream unusable. Close (a no-op if it is already closing)
            // fails `reply` with QmpDisconnectedException, which the await below then throws.
            Close(ex);
        }

        try
        {
            return await reply.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _pending.Remove(id);
            throw;
        }
    }

    /// <summary><see cref="ExecuteAsync(string, object?, CancellationToken)"/>, deserialising the result with <see cref="SerializerOptions"/>.</summary>
    public Task<TResult> ExecuteAsync<TResult>(
        string command, object? arguments = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync<TResult>(command, arguments, _commandTimeout, cancellationToken);

    /// <summary><see cref="ExecuteAsync{TResult}(string, object?, CancellationToken)"/> with its own deadline.</summary>
    public async Task<TResult> ExecuteAsync<TResult>(
        string command, object? arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        JsonElement result = await ExecuteAsync(command, arguments, timeout, cancellationToken).ConfigureAwait(false);
        // QMP never returns a bare null, so a null here only comes from a nullable TResult.
        return result.Deserialize<TResult>(QmpJson.Options)!;
    }

    /// <summary>Subscribes to events: before sending the command that causes them. No names: every event.</summary>
    public QmpEventListener Listen(params string[] eventNames) => _events.Subscribe(eventNames);

    /// <summary>Closes the connection, fails pending calls, ends listeners. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        Close(null);
        await _readerLoop.ConfigureAwait(false);
    }

    private static void ThrowIfBadTimeout(TimeSpan timeout, string name)
    {
        if (timeout != Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "a QMP command deadline must be positive or infinite");
        }
    }

    // Never throws: everything it meets becomes the disconnect reason.
    private async Task RunReaderAsync()
    {
        Exception reason;
        try
        {
            while (true)
            {
                using JsonDocument? message = await _lines.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                if (message is null)
                {
                    reason = new EndOfStreamException("QEMU closed the QMP connection");
                    break;
                }
                _router.Route(message.RootElement);
            }
        }
        catch (IOException ex) when (IsPeerGone(ex))
        {
            // Linux reports a close that left some of our bytes unread as a reset: a command written while QEMU
            // exits (requests carry no terminator for this reason: QmpRequestWriter.Format). Everything QEMU sent
            // before closing has already been read by now.
            reason = new EndOfStreamException($"QEMU closed the QMP connection ({((SocketException)ex.InnerException!).SocketErrorCode})", ex);
        }
        catch (Exception ex)
        {
            reason = ex;
        }
        Close(reason);
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    // First caller wins: a local dispose that races with an EOF reports null, not the EOF.
    private void Close(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        Volatile.Write(ref _reason, reason);
        // QEMU closing its end (quit, exit, kill) is ordinary: callers learn of it through Disconnected. That shows
        // as EOF on read, or as EPIPE/ECONNRESET when a write (often `quit` itself) races the exit. Only a protocol
        // or other socket fault is worth a stack trace (rendering one also loads the PDB reader: ~2 MB resident).
        if (reason is EndOfStreamException || IsPeerGone(reason))
        {
            _log.Debug("QMP connection ended: {Reason}", reason.Message);
        }
        else if (reason is not null)
        {
            _log.Warning(reason, "QMP connection ended: {Reason}", reason.Message);
        }
        _lifetime.Cancel();
        _stream.Dispose();
        _pending.Close(command => new QmpDisconnectedException(
            $"QMP connection ended before the reply to '{command}'", reason));
        _events.Close(reason);
        _disconnected.TrySetResult(reason);
    }

    /// <summary>The one classification of "QEMU went away" on a socket, for reads and writes alike.</summary>
    private static bool IsPeerGone([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] Exception? reason) =>
        reason is IOException { InnerException: SocketException socket }
        && socket.SocketErrorCode is SocketError.Shutdown
            or SocketError.ConnectionReset or SocketError.ConnectionAborted;
}
