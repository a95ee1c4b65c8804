using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.Interop.Tests.Posix;

public sealed class ProcessTcpSocketsTests
{
    [Theory]
    [InlineData("0100007F:1F90", "127.0.0.1", 8080)]
    [InlineData("0300A8C0:C350", "192.168.0.3", 50000)]
    [InlineData("00000000000000000000000001000000:0016", "::1", 22)]
    [InlineData("0000000000000000FFFF00000100007F:0050", "::ffff:127.0.0.1", 80)]
    public void ParseEndpoint_ProcNetTcpForms_AddressAndPort(string text, string address, int port)
    {
        var endpoint = ProcessTcpSockets.ParseEndpoint(text);

        Assert.NotNull(endpoint);
        Assert.Equal(IPAddress.Parse(address), endpoint.Address);
        Assert.Equal(port, endpoint.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0100007F")]
    [InlineData("0100007:1F90")]
    [InlineData("XYZ0007F:1F90")]
    public void ParseEndpoint_Malformed_Null(string text) => Assert.Null(ProcessTcpSockets.ParseEndpoint(text));

    [Fact]
    public async Task ShutDownConnectedTo_AnotherProcessBlockedInRecv_ItsRecvEndsAndOtherSocketsAreUntouched()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var otherPort = ((IPEndPoint)other.LocalEndpoint).Port;
        // A child that holds one connection to each listener and blocks reading the first: only a shutdown from outside
        // (the peer never writes or closes) ends that read.
        var script = "import socket,sys\n" +
                     $"a=socket.create_connection(('127.0.0.1',{port}))\n" +
                     $"b=socket.create_connection(('127.0.0.1',{otherPort}))\n" +
                     "print('connected',flush=True)\n" +
                     "print('eof' if a.recv(1)==b'' else 'data',flush=True)\n" +
                     "b.sendall(b'x')\n";
        using var child = Process.Start(new ProcessStartInfo("python3", ["-c", script]) { RedirectStandardOutput = true })!;
        try
        {
            using var accepted = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
            using var acceptedOther = await other.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("connected", await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Single(ProcessTcpSockets.FindConnectedTo(child.Id, [IPAddress.Loopback], port));

            var cut = ProcessTcpSockets.ShutDownConnectedTo(child.Id, [IPAddress.Loopback], port);

            Assert.Equal(1, cut);
            Assert.Equal("eof", await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
            // The other connection still carries data.
            var buffer = new byte[1];
            Assert.Equal(1, await acceptedOther.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited)
                child.Kill();
        }
    }

    [Fact]
    public void FindConnectedTo_NoSuchProcessOrPort_Empty()
    {
        Assert.Empty(ProcessTcpSockets.FindConnectedTo(Environment.ProcessId, [IPAddress.Loopback], 1));
        Assert.Empty(ProcessTcpSockets.FindConnectedTo(int.MaxValue, [IPAddress.Loopback], 1));
    }
}
