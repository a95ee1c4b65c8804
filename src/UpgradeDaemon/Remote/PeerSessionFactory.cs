using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using LocalMigrate.Contract.Client;
using LocalMigrate.Contract.Peer;
using LocalMigrate.UpgradeDaemon.Hosting;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>Opens the control channel to a peer daemon over the URI's transport.</summary>
public sealed class PeerSessionFactory(DaemonOptions options)
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    /// <summary>This host's certificates, for the QEMU stream of a tls:// migration too.</summary>
    public string PkiDirectory => options.Remote.PkiDirectory;

    /// <exception cref="PeerUnreachableException">Names the peer and why it could not be reached.</exception>
    public async Task<PeerSession> OpenAsync(PeerUri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        return uri.Transport switch
        {
            PeerTransport.Ssh => await OpenSshAsync(uri, timeout.Token).ConfigureAwait(false),
            _ => await OpenSocketAsync(uri, timeout.Token).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// The system ssh client with the operator's keys and known_hosts, never prompting (BatchMode), running the bridge
    /// command there. Keep-alives make a cut link visible to both sides within ~15 s.
    /// </summary>
    private async Task<PeerSession> OpenSshAsync(PeerUri uri, CancellationToken cancellationToken)
    {
        var command = SplitCommand(options.Remote.SshCommand);
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1))
            start.ArgumentList.Add(a);
        foreach (var a in new[] { "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-T" })
            start.ArgumentList.Add(a);
        if (uri.Port is { } port)
        {
            start.ArgumentList.Add("-p");
            start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (uri.User is { } user)
        {
            start.ArgumentList.Add("-l");
            start.ArgumentList.Add(user);
        }
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(uri.Host);
        start.ArgumentList.Add(options.Remote.SshBridgeCommand);
        Process ssh;
        try
        {
            ssh = Process.Start(start) ?? throw new PeerUnreachableException(uri, $"{command[0]} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PeerUnreachableException(uri, $"cannot run {command[0]}: {e.Message}");
        }
        var stderr = new StringBuilder();
        ssh.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                lock (stderr)
                    stderr.AppendLine(line);
        };
        ssh.BeginErrorReadLine();
        var stream = new DuplexStream(ssh.StandardOutput.BaseStream, ssh.StandardInput.BaseStream);
        try
        {
            var connection = await DaemonConnection.ConnectAsync(stream, uri.Text, cancellationToken).ConfigureAwait(false);
            return new PeerSession(uri, connection, ssh);
        }
        catch (Exception e) when (e is not PeerUnreachableException)
        {
            if (!ssh.HasExited)
                ssh.Kill();
            await ssh.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            string said;
            lock (stderr)
                said = stderr.ToString().Trim().Replace('\n', ' ');
            ssh.Dispose();
            throw new PeerUnreachableException(uri, said.Length > 0 ? $"ssh: {said}" : $"no D-Bus answer over ssh ({e.Message})", e);
        }
    }

    /// <summary>TLS (mutual X.509, this host's client certificate) or plain TCP to the peer's listener.</summary>
    private async Task<PeerSession> OpenSocketAsync(PeerUri uri, CancellationToken cancellationToken)
    {
        if (uri.Transport == PeerTransport.Tcp && !options.Remote.AllowInsecureTcp)
            throw new PeerUnreachableException(uri, "plaintext tcp:// is refused unless the configuration sets remote.allowInsecureTcp (use ssh:// or tls://)");
        var connector = new Transport.PeerConnector(uri.Transport == PeerTransport.Tls ? Transport.PeerTransportMode.Tls : Transport.PeerTransportMode.Tcp,
            options.Remote.PkiDirectory, ConnectTimeout);
        Stream? stream = null;
        try
        {
            stream = await connector.ConnectAsync(uri.Host, uri.ControlPort!.Value, cancellationToken).ConfigureAwait(false);
            var connection = await DaemonConnection.ConnectAsync(stream, uri.Text, cancellationToken).ConfigureAwait(false);
            return new PeerSession(uri, connection, null);
        }
        catch (Transport.PeerConnectionException e)
        {
            throw new PeerUnreachableException(uri, e.Reason, e);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or Tmds.DBus.Protocol.DBusConnectionException
                                      or Transport.PeerPkiException)
        {
            if (stream is not null)
                await stream.DisposeAsync().ConfigureAwait(false);
            throw new PeerUnreachableException(uri, e is OperationCanceledException ? $"no answer within {ConnectTimeout.TotalSeconds:0} s" : e.Message, e);
        }
    }

    /// <summary>The configured ssh command: words separated by spaces, single or double quotes group.</summary>
    internal static IReadOnlyList<string> SplitCommand(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var c in command)
        {
            if (quote is { } q)
            {
                if (c == q)
                    quote = null;
                else
                    word.Append(c);
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                any = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (word.Length > 0 || any)
                    words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else
            {
                word.Append(c);
            }
        }
        if (word.Length > 0 || any)
            words.Add(word.ToString());
        return words.Count > 0 ? words : throw new ArgumentException("remote.sshCommand is empty");
    }
}
