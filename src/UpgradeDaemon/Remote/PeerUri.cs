using System.Text.RegularExpressions;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// A migration destination: <c>ssh://[user@]host[:port]</c>, <c>tls://host[:port]</c>, <c>tcp://host[:port]</c>, and
/// the libvirt forms virsh and Salt users type (<c>qemu+ssh://host/system</c>, <c>qemu+tls://...</c>, <c>qemu+tcp://...</c>).
/// </summary>
public sealed partial record PeerUri(PeerTransport Transport, string? User, string Host, int? Port, string Text)
{
    /// <summary>The port the control channel goes to (ssh's own default is left to ssh).</summary>
    public int? ControlPort => Port ?? Transport switch
    {
        PeerTransport.Tls => Hosting.RemoteOptions.DefaultTlsPort,
        PeerTransport.Tcp => Hosting.RemoteOptions.DefaultTcpPort,
        _ => null,
    };

    public override string ToString() => Text;

    /// <exception cref="ArgumentException">Names the URI and what is wrong with it.</exception>
    public static PeerUri Parse(string text)
    {
        var match = UriPattern().Match(text);
        if (!match.Success)
            throw new ArgumentException($"uri: '{text}' is not a destination (expected ssh://[user@]host[:port], tls://host[:port], " +
                                        "tcp://host[:port], or qemu+ssh://host/system and the like)");
        var scheme = match.Groups["scheme"].Value;
        var transport = scheme switch
        {
            "ssh" or "qemu+ssh" => PeerTransport.Ssh,
            "tls" or "qemu+tls" => PeerTransport.Tls,
            "tcp" or "qemu+tcp" => PeerTransport.Tcp,
            _ => throw new ArgumentException($"uri: '{text}': unknown scheme '{scheme}' (ssh, tls, tcp, qemu+ssh, qemu+tls, qemu+tcp)"),
        };
        var path = match.Groups["path"].Value;
        if (path is not ("" or "/" or "/system"))
            throw new ArgumentException($"uri: '{text}': path '{path}' (only /system, the one daemon per host, or none)");
        var user = match.Groups["user"].Success ? match.Groups["user"].Value : null;
        if (user is not null && transport != PeerTransport.Ssh)
            throw new ArgumentException($"uri: '{text}': a user name only means something for ssh (TLS peers are known by certificate)");
        int? port = null;
        if (match.Groups["port"].Success)
        {
            port = int.TryParse(match.Groups["port"].Value, out var p) && p is >= 1 and <= 65535
                ? p
                : throw new ArgumentException($"uri: '{text}': port '{match.Groups["port"].Value}' is not 1 to 65535");
        }
        var host = match.Groups["host"].Value.Trim('[', ']');
        return new PeerUri(transport, user, host, port, text);
    }

    // host: a name, an IPv4 address, or an IPv6 address in brackets. No shell metacharacters can get through to ssh.
    [GeneratedRegex(@"^(?<scheme>[a-z+]+)://(?:(?<user>[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})@)?(?<host>[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]+\])(?::(?<port>[0-9]{1,5}))?(?<path>/[a-z]*)?$")]
    private static partial Regex UriPattern();
}
