using LocalMigrate.UpgradeDaemon.Remote;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

public sealed class PeerUriTests
{
    [Theory]
    [InlineData("ssh://hostb", PeerTransport.Ssh, null, "hostb", null)]
    [InlineData("ssh://root@hostb:2222", PeerTransport.Ssh, "root", "hostb", 2222)]
    [InlineData("qemu+ssh://admin@10.0.0.2/system", PeerTransport.Ssh, "admin", "10.0.0.2", null)]
    [InlineData("tls://hostb.example.org", PeerTransport.Tls, null, "hostb.example.org", null)]
    [InlineData("qemu+tls://hostb:16600/system", PeerTransport.Tls, null, "hostb", 16600)]
    [InlineData("tcp://10.1.2.3:16510", PeerTransport.Tcp, null, "10.1.2.3", 16510)]
    [InlineData("qemu+tcp://[fd00::2]/system", PeerTransport.Tcp, null, "fd00::2", null)]
    public void Parse_TheFormsOperatorsType_GiveTransportUserHostPort(string text, PeerTransport transport, string? user, string host, int? port)
    {
        var uri = PeerUri.Parse(text);
        Assert.Equal((transport, user, host, port), (uri.Transport, uri.User, uri.Host, uri.Port));
    }

    [Fact]
    public void ControlPort_NoneGiven_IsTheDefaultOfTheTransport()
    {
        Assert.Equal(16515, PeerUri.Parse("tls://h").ControlPort);
        Assert.Equal(16510, PeerUri.Parse("tcp://h").ControlPort);
        Assert.Null(PeerUri.Parse("ssh://h").ControlPort);
    }

    [Theory]
    [InlineData("hostb", "is not a destination")]
    [InlineData("http://hostb", "unknown scheme 'http'")]
    [InlineData("ssh://hostb/session", "path '/session'")]
    [InlineData("ssh://hostb:0", "port '0'")]
    [InlineData("ssh://hostb:70000", "port '70000'")]
    [InlineData("tls://root@hostb", "a user name only means something for ssh")]
    [InlineData("ssh://-oProxyCommand=x", "is not a destination")]
    [InlineData("ssh://host;rm", "is not a destination")]
    [InlineData("ssh://$(id)@host", "is not a destination")]
    public void Parse_BadUri_NamesTheUriAndTheProblem(string text, string problem)
    {
        var e = Assert.Throws<ArgumentException>(() => PeerUri.Parse(text));
        Assert.StartsWith($"uri: '{text}'", e.Message);
        Assert.Contains(problem, e.Message);
    }
}
