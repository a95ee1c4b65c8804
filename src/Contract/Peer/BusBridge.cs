using System.Net.Sockets;
using System.Text;

namespace LocalMigrate.Contract.Peer;

/// <summary>
/// Carries a D-Bus client on a stream (ssh's stdin/stdout, a TLS or TCP connection from a peer host) to this host's
/// bus, like systemd-stdio-bridge: it answers the client's SASL authentication itself, authenticates to the bus as
/// this process, then copies messages both ways. Unlike stdio-bridge it lets through only what a peer daemon needs:
/// method calls to <see cref="BusContract.ServiceName"/>, replies, and the bus's own Hello/AddMatch/RemoveMatch/
/// GetNameOwner/NameHasOwner. Anything else (a call to systemd, a signal) ends the connection: a peer reached over
/// TLS acts with this process's identity on the bus, and that must not reach beyond the daemon.
/// </summary>
public static class BusBridge
{
    private const int MaxMessageBytes = 64 << 20;
    private const string BusName = "org.freedesktop.DBus";
    private static readonly HashSet<string> BusMethods = ["Hello", "AddMatch", "RemoveMatch", "GetNameOwner", "NameHasOwner"];

    /// <summary>Runs until either side closes; then closes both.</summary>
    /// <param name="busAddress">unix:path=... or unix:abstract=... (the bus this host's daemon is on).</param>
    /// <param name="onRefused">Told why a connection was ended (a refused message, a bad handshake).</param>
    public static async Task RunAsync(Stream peer, string busAddress, Action<string>? onRefused, CancellationToken cancellationToken)
    {
        using var bus = await ConnectBusAsync(busAddress, cancellationToken).ConfigureAwait(false);
        await using var busStream = new NetworkStream(bus, ownsSocket: false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await AuthenticateToBusAsync(busStream, stop.Token).ConfigureAwait(false);
            if (!await AnswerAuthenticationAsync(peer, stop.Token).ConfigureAwait(false))
            {
                onRefused?.Invoke("the peer did not authenticate (SASL EXTERNAL or ANONYMOUS, then BEGIN)");
                return;
            }
            var toBus = ForwardCheckedAsync(peer, busStream, onRefused, stop.Token);
            var toPeer = CopyAsync(busStream, peer, stop.Token);
            await Task.WhenAny(toBus, toPeer).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side went away: the other is closed below.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            bus.Shutdown(SocketShutdown.Both);
            await peer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Socket> ConnectBusAsync(string address, CancellationToken cancellationToken)
    {
        var first = address.Split(';')[0];
        if (!first.StartsWith("unix:", StringComparison.Ordinal))
            throw new ArgumentException($"bus address {address}: only unix: addresses can be bridged");
        var keys = first["unix:".Length..].Split(',').Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => Uri.UnescapeDataString(kv[1]));
        var endPoint = keys.TryGetValue("path", out var path) ? new UnixDomainSocketEndPoint(path)
            : keys.TryGetValue("abstract", out var name) ? new UnixDomainSocketEndPoint("\0" + name)
            : throw new ArgumentException($"bus address {address}: no path= or abstract=");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>SASL EXTERNAL as this process (the bus checks it against the socket's credentials).</summary>
    private static async Task AuthenticateToBusAsync(Stream bus, CancellationToken cancellationToken)
    {
        var uid = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[2];
        await WriteAsync(bus, "\0AUTH EXTERNAL " + Convert.ToHexString(Encoding.ASCII.GetBytes(uid)).ToLowerInvariant() + "\r\n", cancellationToken)
            .ConfigureAwait(false);
        var reply = await ReadLineAsync(bus, cancellationToken).ConfigureAwait(false);
        if (reply is null || !reply.StartsWith("OK ", StringComparison.Ordinal))
            throw new IOException($"the bus refused this bridge: {reply ?? "connection closed"}");
        await WriteAsync(bus, "BEGIN\r\n", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The server side of SASL towards the peer. Who the peer is was settled by ssh or TLS before this: the identity it
    /// claims here is not trusted for anything, so EXTERNAL and ANONYMOUS are both accepted. No fd passing over a network.
    /// </summary>
    private static async Task<bool> AnswerAuthenticationAsync(Stream peer, CancellationToken cancellationToken)
    {
        var nul = new byte[1];
        if (await peer.ReadAsync(nul, cancellationToken).ConfigureAwait(false) != 1 || nul[0] != 0)
            return false;
        var guid = Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant();
        var authenticated = false;
        for (var lines = 0; lines < 16; lines++)
        {
            var line = await ReadLineAsync(peer, cancellationToken).ConfigureAwait(false);
            if (line is null)
                return false;
            if (line.StartsWith("AUTH EXTERNAL", StringComparison.Ordinal) || line.StartsWith("AUTH ANONYMOUS", StringComparison.Ordinal))
            {
                authenticated = true;
                await WriteAsync(peer, $"OK {guid}\r\n", cancellationToken).ConfigureAwait(false);
            }
            else if (line == "BEGIN")
            {
                return authenticated;
            }
            else if (line.StartsWith("AUTH", StringComparison.Ordinal) || line == "CANCEL")
            {
                await WriteAsync(peer, "REJECTED EXTERNAL ANONYMOUS\r\n", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(peer, "ERROR\r\n", cancellationToken).ConfigureAwait(false);
            }
        }
        return false;
    }

    private static async Task ForwardCheckedAsync(Stream from, Stream to, Action<string>? onRefused, CancellationToken cancellationToken)
    {
        var header = new byte[16];
        while (true)
        {
            if (!await ReadExactlyOrEndAsync(from, header, cancellationToken).ConfigureAwait(false))
                return;
            var length = BusMessageHeader.TotalLength(header);
            if (length is < 16 or > MaxMessageBytes)
            {
                onRefused?.Invoke($"message of {length} bytes refused");
                return;
            }
            var message = new byte[length];
            header.CopyTo(message, 0);
            await from.ReadExactlyAsync(message.AsMemory(16), cancellationToken).ConfigureAwait(false);
            BusMessageHeader parsed;
            try
            {
                parsed = BusMessageHeader.Parse(message);
            }
            catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
            {
                onRefused?.Invoke($"malformed message: {e.Message}");
                return;
            }
            if (!Allowed(parsed))
            {
                onRefused?.Invoke($"message refused: type {parsed.Type}, destination {parsed.Destination ?? "(none)"}, " +
                                  $"{parsed.Interface ?? "(no interface)"}.{parsed.Member ?? "(no member)"}");
                return;
            }
            await to.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool Allowed(BusMessageHeader message) => message.Type switch
    {
        BusMessageHeader.MethodReturn or BusMessageHeader.Error => true,
        BusMessageHeader.MethodCall => message.Destination == BusContract.ServiceName
                                       || (message.Destination == BusName && message.Member is { } member && BusMethods.Contains(member)),
        _ => false,
    };

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            await to.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return read == buffer.Length;
    }

    /// <summary>One SASL line, byte by byte: what follows BEGIN is the first message and must stay in the stream.</summary>
    private static async Task<string?> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 1024)
        {
            if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) != 1)
                return null;
            if (one[0] == '\n')
                return line.ToString().TrimEnd('\r');
            line.Append((char)one[0]);
        }
        return null;
    }

    private static async Task WriteAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
