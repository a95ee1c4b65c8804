using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

/// <summary>NIC types in the definition (user, bridge, tap): what the parser accepts, refuses by field, and stores; tap names; -netdev.</summary>
public sealed class NicDefinitionTests
{
    private static DefinitionException Refused(string nic) =>
        Assert.Throws<DefinitionException>(() => DefinitionParser.Parse($$"""{"name":"n","kernel":"/k","nics":[{{nic}}]}"""));

    [Theory]
    [InlineData("""{"type":"bridge"}""", "nics[0].bridge", "required for type bridge")]
    [InlineData("""{"type":"tap"}""", "nics[0].tap", "required for type tap")]
    [InlineData("""{"type":"bridge","bridge":"br-with-a-long-name"}""", "nics[0].bridge", "19 characters; an interface name has at most 15")]
    [InlineData("""{"type":"tap","tap":"tap0123456789abc"}""", "nics[0].tap", "at most 15")]
    [InlineData("""{"type":"bridge","bridge":"br 0"}""", "nics[0].bridge", "not an interface name")]
    [InlineData("""{"type":"bridge","bridge":"../br0"}""", "nics[0].bridge", "not an interface name")]
    [InlineData("""{"type":"bridge","bridge":"br0","mac":"01:00:5e:00:00:fb"}""", "nics[0].mac", "multicast")]
    [InlineData("""{"type":"bridge","bridge":"br0","mac":"33:33:00:00:00:01"}""", "nics[0].mac", "multicast")]
    [InlineData("""{"type":"bridge","bridge":"br0","mac":"ff:ff:ff:ff:ff:ff"}""", "nics[0].mac", "multicast")]
    [InlineData("""{"type":"bridge","bridge":"br0","mac":"00:00:00:00:00:00"}""", "nics[0].mac", "not a usable address")]
    [InlineData("""{"type":"bridge","bridge":"br0","mac":"52:54:00:00:01"}""", "nics[0].mac", "not a MAC address")]
    [InlineData("""{"type":"user","bridge":"br0"}""", "nics[0].bridge", "only for type bridge")]
    [InlineData("""{"type":"bridge","bridge":"br0","tap":"t0"}""", "nics[0].tap", "only for type tap")]
    public void Parse_BadNic_RefusedNamingTheField(string nic, string field, string message)
    {
        var e = Refused(nic);
        var error = Assert.Single(e.Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Parse_BridgeAndTapNics_KeptAndWrittenBackTheSame()
    {
        var d = DefinitionParser.Parse("""
            {"name":"n","kernel":"/k","nics":[{"type":"bridge","bridge":"br0","mac":"52:54:00:00:00:01"},{"type":"tap","tap":"vnet7"},{}]}
            """);
        Assert.Equal(new NicDefinition("bridge", "virtio-net-pci", "52:54:00:00:00:01") { Bridge = "br0" }, d.Nics[0]);
        Assert.Equal("vnet7", d.Nics[1].Tap);
        Assert.Equal("user", d.Nics[2].Type);
        var again = DefinitionParser.Parse(System.Text.Encoding.UTF8.GetString(DefinitionWriter.ToUtf8Json(d)));
        Assert.Equal(d.Nics, again.Nics);
    }

    [Fact]
    public void TapName_PerDomainAndNic_StableShortAndDistinct()
    {
        var name = TapName.For("a-domain-name-of-sixty-four-characters-which-is-the-longest-one", 29);
        Assert.True(name.Length <= 15, name);
        Assert.Matches("^lm[0-9a-f]{8}n29$", name);
        Assert.Equal(TapName.For("web", 0), TapName.For("web", 0));
        Assert.NotEqual(TapName.For("web", 0), TapName.For("web", 1));
        Assert.NotEqual(TapName.For("web", 0), TapName.For("db", 0));
    }

    [Fact]
    public void Build_TapBackend_NetdevFromTheBackendUserOtherwise()
    {
        var d = DefinitionParser.Parse("""{"name":"n","kernel":"/k","nics":[{"type":"bridge","bridge":"br0","mac":"52:54:00:00:00:01"},{"mac":"52:54:00:00:00:02"}]}""");
        var args = QemuCommandLine.Build(d, InstancePaths.For("/r", "n", "a"), "tcg", "/c.log", "/m.ram", false, netdevs: ["tap,fd=3,vhost=off", null]);
        Assert.Contains("tap,fd=3,vhost=off,id=net0", args);
        Assert.Contains("virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,id=net0", args);
        Assert.Contains("user,id=net1", args);
    }
}
