using LocalMigrate.UpgradeDaemon.Api;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

public sealed class MigrationOptionsReaderTests
{
    [Fact]
    public void Read_EveryOption_Typed()
    {
        var options = MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["targetBinary"] = "/usr/bin/qemu-system-x86_64", ["maxBandwidth"] = 1000UL, ["downtimeLimitMs"] = 50U,
            ["ignoreShared"] = false, ["timeoutSeconds"] = 60U,
        });
        Assert.Equal("/usr/bin/qemu-system-x86_64", options.TargetBinary);
        Assert.Equal(1000, options.MaxBandwidth);
        Assert.Equal(50, options.DowntimeLimitMs);
        Assert.False(options.IgnoreShared);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Timeout);
    }

    [Fact]
    public void Read_BadAndUnknownKeys_AllNamedInOneError()
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["targetBinary"] = "relative", ["maxBandwidth"] = "fast", ["downtimeLimitMs"] = 0U, ["speed"] = 1,
            ["timeoutSeconds"] = Tmds.DBus.Protocol.VariantValue.Array(new ulong[] { 5 }),
        }));
        Assert.Contains("option targetBinary: bad value 'relative' (type s), expected an absolute path", e.Message);
        Assert.Contains("option maxBandwidth: bad value 'fast' (type s), expected bytes per second > 0, type t", e.Message);
        Assert.Contains("option downtimeLimitMs: bad value 0 (type u), expected milliseconds 1 to 2000000", e.Message);
        Assert.Contains("option speed: unknown", e.Message);
        // A value of a type the reader does not map is still shown as D-Bus sees it, never as a .NET type name.
        Assert.Contains("option timeoutSeconds: bad value", e.Message);
        Assert.Contains("(type at)", e.Message);
        Assert.DoesNotContain("System.", e.Message);
    }

    [Fact]
    public void Read_PauseGuest_TypedAndRefusedBesideOptionsThatActOnARunningGuest()
    {
        Assert.True(MigrationOptionsReader.Read(new Dictionary<string, object> { ["pauseGuest"] = true }).PauseGuest);
        Assert.False(MigrationOptionsReader.Read(new Dictionary<string, object> { ["pauseGuest"] = false, ["postcopy"] = true }).PauseGuest);
        Assert.Null(MigrationOptionsReader.Read(new Dictionary<string, object>()).PauseGuest);

        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["pauseGuest"] = true, ["postcopy"] = true, ["autoConverge"] = true, ["convergePolicy"] = "pause",
        }));
        Assert.Contains("option pauseGuest true with postcopy, autoConverge, convergePolicy: those act while the guest runs during the copy", e.Message);
        var typed = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(new Dictionary<string, object> { ["pauseGuest"] = "yes" }));
        Assert.Contains("option pauseGuest: bad value 'yes' (type s), expected type b", typed.Message);
    }

    [Theory]
    [InlineData("vm1", "vm1")]
    [InlineData("web-1.prod", "web_2d1_2eprod")]
    [InlineData("1st", "_31st")]
    [InlineData("a_b", "a_5fb")]
    public void DomainPath_EscapesLikeSdBusPathEncode(string name, string label) =>
        Assert.Equal("/org/localmigrate1/domain/" + label, LocalMigrate.Contract.BusContract.DomainPath(name));
}
