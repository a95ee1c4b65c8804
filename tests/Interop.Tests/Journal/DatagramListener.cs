using System.Net.Sockets;

namespace LocalMigrate.Interop.Tests.Journal;

/// <summary>A bound AF_UNIX datagram socket standing in for systemd's notify socket or journald.</summary>
internal sealed class DatagramListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public DatagramListener(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _socket.ReceiveTimeout = 5000;
    }

    public string Path { get; }

    public byte[] Receive()
    {
        var buffer = new byte[256 * 1024];
        var length = _socket.Receive(buffer);
        return buffer[..length];
    }

    /// <summary>True if nothing arrives within <paramref name="wait"/>.</summary>
    public bool IsQuiet(TimeSpan wait) => !_socket.Poll(wait, SelectMode.SelectRead);

    public void Dispose()
    {
        _socket.Dispose();
        File.Delete(Path);
    }
}
