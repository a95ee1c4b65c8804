using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LocalMigrate.UpgradeDaemon.Tests.Network;

/// <summary>
/// A byte counter streamed to the test guest's TCP echo (port 7: busybox nc -e cat) and checked on the way back: byte i of
/// the stream is byte (i mod 4) of the big-endian 32-bit number i / 4, so a lost, duplicated or reordered byte shows at
/// its offset. Sent paced (<see cref="ChunkBytes"/> every <see cref="ChunkInterval"/>); the longest wait between two
/// arrivals of echoed data is the stream's stall.
/// </summary>
internal sealed class EchoStream : IAsyncDisposable
{
    public const int Port = 7;
    public const int ChunkBytes = 512;
    public static readonly TimeSpan ChunkInterval = TimeSpan.FromMilliseconds(5);

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private readonly Task _receiver;
    private readonly object _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _sent;
    private long _received;
    private TimeSpan _lastArrival;
    private TimeSpan _longestStall;
    private string? _error;
    private bool _stopping;

    private EchoStream(Socket socket)
    {
        _socket = socket;
        _sender = Task.Run(SendLoopAsync);
        _receiver = Task.Run(ReceiveLoopAsync);
    }

    public static EchoStream Start(string namespaceName, string guestAddress) =>
        new(NamespaceSocket.Connect(namespaceName, IPAddress.Parse(guestAddress), Port, TimeSpan.FromSeconds(60)));

    public long Sent => Interlocked.Read(ref _sent);
    public long Received => Interlocked.Read(ref _received);

    /// <summary>The first broken byte, reset or error, or null while the stream is intact.</summary>
    public string? Error { get { lock (_gate) return _error; } }

    /// <summary>The longest time without echoed data since the last <see cref="TakeLongestStall"/>; resets it.</summary>
    public TimeSpan TakeLongestStall()
    {
        lock (_gate)
        {
            var stall = _longestStall;
            // The gap still open counts too (a stream that has not yet resumed).
            var open = _clock.Elapsed - _lastArrival;
            _longestStall = TimeSpan.Zero;
            return stall > open ? stall : open;
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> more bytes came back than now, or throws naming the stream's state.</summary>
    public async Task WaitForMoreAsync(long bytes, TimeSpan timeout)
    {
        var target = Received + bytes;
        var deadline = DateTime.UtcNow + timeout;
        while (Received < target && Error is null)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"echo stream: {Received} of {Sent} bytes back, wanted {target} within {timeout.TotalSeconds} s");
            await Task.Delay(20);
        }
        Assert.True(Error is null, $"echo stream broke: {Error}");
    }

    /// <summary>Stops sending, waits for every sent byte to come back, and checks nothing was lost, duplicated or reset.</summary>
    public async Task StopAndVerifyAsync(TimeSpan timeout)
    {
        lock (_gate)
            _stopping = true;
        await _sender;
        var deadline = DateTime.UtcNow + timeout;
        while (Received < Sent && Error is null && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.True(Error is null, $"echo stream broke: {Error}");
        Assert.True(Received == Sent, $"echo stream: sent {Sent} bytes, {Received} came back");
    }

    private static byte ByteAt(long offset) => (byte)((offset / 4) >> (8 * (3 - (int)(offset % 4))));

    private async Task SendLoopAsync()
    {
        var chunk = new byte[ChunkBytes];
        var next = _clock.Elapsed;
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_stopping || _error is not null)
                        return;
                }
                var offset = Sent;
                for (var i = 0; i < chunk.Length; i++)
                    chunk[i] = ByteAt(offset + i);
                // Counted before it goes: an echo may come back before SendAsync returns.
                Interlocked.Add(ref _sent, chunk.Length);
                var done = 0;
                while (done < chunk.Length)
                    done += await _socket.SendAsync(chunk.AsMemory(done), SocketFlags.None, _stop.Token);
                next += ChunkInterval;
                var wait = next - _clock.Elapsed;
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, _stop.Token);
                else
                    next = _clock.Elapsed;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Fail($"send failed at byte {Sent}: {e.Message}");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65536];
        lock (_gate)
            _lastArrival = _clock.Elapsed;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    Fail($"the guest closed the connection after {Received} bytes");
                    return;
                }
                var offset = Received;
                for (var i = 0; i < n; i++)
                {
                    if (buffer[i] != ByteAt(offset + i))
                    {
                        Fail($"byte {offset + i} is 0x{buffer[i]:x2}, expected 0x{ByteAt(offset + i):x2} (lost, duplicated or reordered data)");
                        return;
                    }
                }
                Interlocked.Add(ref _received, n);
                lock (_gate)
                {
                    var now = _clock.Elapsed;
                    if (now - _lastArrival > _longestStall)
                        _longestStall = now - _lastArrival;
                    _lastArrival = now;
                }
                if (Received > Sent)
                {
                    Fail($"{Received} bytes came back, only {Sent} were sent");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Fail($"receive failed at byte {Received}: {e.Message}");
        }
    }

    private void Fail(string why)
    {
        lock (_gate)
            _error ??= why;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await Task.WhenAll(_sender, _receiver);
        }
        catch (OperationCanceledException)
        {
        }
        _socket.Dispose();
        _stop.Dispose();
    }
}
