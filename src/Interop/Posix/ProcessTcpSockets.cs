using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Another process's TCP connections, found through /proc, and cut from outside: shutdown(2) on a pidfd_getfd duplicate
/// acts on the very socket the process holds. What a daemon needs when a process is stuck sending into a link that is
/// gone (TCP retransmits for ~15 minutes before it gives up) and cannot be told to stop.
/// </summary>
public static class ProcessTcpSockets
{
    /// <summary>The fds of process <paramref name="pid"/> that are TCP sockets connected to <paramref name="port"/> on one of <paramref name="addresses"/>.</summary>
    public static IReadOnlyList<int> FindConnectedTo(int pid, IReadOnlyCollection<IPAddress> addresses, int port)
    {
        var inodes = new HashSet<ulong>();
        // The process's own network namespace: /proc/<pid>/net is the view from inside it.
        foreach (var table in new[] { "tcp", "tcp6" })
        {
            IEnumerable<string> lines;
            try
            {
                lines = File.ReadLines($"/proc/{pid}/net/{table}").Skip(1).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var line in lines)
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || ParseEndpoint(fields[2]) is not { } remote || remote.Port != port)
                    continue;
                var remoteV4 = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
                if (addresses.Any(a => a.Equals(remoteV4) || a.Equals(remote.Address)) && ulong.TryParse(fields[9], out var inode) && inode != 0)
                    inodes.Add(inode);
            }
        }
        var fds = new List<int>();
        if (inodes.Count == 0)
            return fds;
        foreach (var fd in ProcFs.OpenFds(pid))
        {
            try
            {
                if (new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)
                    && ulong.TryParse(target[8..^1], out var inode) && inodes.Contains(inode))
                    fds.Add(fd);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The fd closed while we looked.
            }
        }
        return fds;
    }

    /// <summary>shutdown(SHUT_RDWR) on every TCP socket of <paramref name="pid"/> connected to that address and port: the
    /// process's blocked send or receive on it fails at once (EPIPE, or end of stream).</summary>
    /// <returns>How many sockets were shut down.</returns>
    public static int ShutDownConnectedTo(int pid, IReadOnlyCollection<IPAddress> addresses, int port)
    {
        var count = 0;
        foreach (var fd in FindConnectedTo(pid, addresses, port))
        {
            int copy;
            try
            {
                copy = PidFd.DuplicateFrom(pid, fd);
            }
            catch (IOException)
            {
                continue;
            }
            try
            {
                if (LibC.shutdown(copy, LibC.SHUT_RDWR) == 0)
                    count++;
                else if (Marshal.GetLastPInvokeError() is var errno && errno != 107 /* ENOTCONN: already down */)
                    throw new IOException($"shutdown of fd {fd} of pid {pid} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
            finally
            {
                LibC.close(copy);
            }
        }
        return count;
    }

    /// <summary>"0100007F:1F90" (IPv4) or 32 hex digits ":port" (IPv6): each 32-bit word in host (little-endian) order.</summary>
    internal static IPEndPoint? ParseEndpoint(string text)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port))
            return null;
        var hex = text.AsSpan(0, colon);
        if (hex.Length is not (8 or 32))
            return null;
        var bytes = new byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            if (!uint.TryParse(hex.Slice(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value))
                return null;
            BitConverter.TryWriteBytes(bytes.AsSpan(word * 4, 4), value);
        }
        return new IPEndPoint(new IPAddress(bytes), port);
    }
}
