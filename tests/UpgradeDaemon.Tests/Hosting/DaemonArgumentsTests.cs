using LocalMigrate.UpgradeDaemon.Hosting;

namespace LocalMigrate.UpgradeDaemon.Tests.Hosting;

public sealed class DaemonArgumentsTests
{
    [Fact]
    public void Parse_NoArguments_GivesTheDocumentedDefaults()
    {
        var args = DaemonArgumentParser.Parse([]);
        Assert.Equal("system", args.Bus);
        Assert.Equal("/etc/localmigrate/localmigrated.json", args.ConfigFile);
        Assert.False(args.ConfigFileGiven);
        var options = DaemonConfigLoader.Load(args with { ConfigFile = "/nonexistent/default.json" });
        Assert.Equal("/var/lib/localmigrate", options.StateDirectory);
        Assert.Equal("/run/localmigrate", options.RuntimeDirectory);
    }

    [Fact]
    public void Parse_EveryOption_SpaceAndEqualsForms()
    {
        var args = DaemonArgumentParser.Parse(["--bus", "session", "--state-dir=/s", "--runtime-dir", "/r", "--config=/c.json"]);
        Assert.Equal(new DaemonArguments("session", "/s", "/r", "/c.json", true), args);
    }

    [Theory]
    [InlineData(new[] { "--colour" }, "unknown argument '--colour'")]
    [InlineData(new[] { "--state-dir" }, "--state-dir: needs a value")]
    [InlineData(new[] { "--state-dir", "--bus", "x" }, "--state-dir: needs a value")]
    [InlineData(new[] { "--runtime-dir", "relative" }, "--runtime-dir: 'relative' must be an absolute path")]
    public void Parse_BadArgument_NamesIt(string[] argv, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => DaemonArgumentParser.Parse(argv)).Message);

    [Fact]
    public void Load_GivenConfigMissing_NamesTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => DaemonConfigLoader.Load(DaemonArgumentParser.Parse(["--config", "/nonexistent/x.json"])));
        Assert.Equal("--config: /nonexistent/x.json does not exist", e.Message);
    }

    [Fact]
    public void ConfigParse_EveryBadField_ReportedAtOnce()
    {
        var e = Assert.Throws<ArgumentException>(() => DaemonConfigLoader.Parse(
            """{"stateDirectory":"rel","defaultAccel":"xen","maxParallelMigrations":0,"colour":1,"allowedUids":["x"]}""", "cfg.json"));
        Assert.StartsWith("cfg.json: ", e.Message);
        foreach (var field in new[] { "stateDirectory:", "defaultAccel: must be kvm or tcg", "maxParallelMigrations: must be 1 to 64", "colour: unknown field", "allowedUids:" })
            Assert.Contains(field, e.Message);
    }

    [Fact]
    public void ConfigParse_CommandLineOverridesTheFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"stateDirectory":"/from-file","runtimeDirectory":"/run-file","qemuBinary":"/q","allowedGroups":["kvm"],"scopeBus":"off","stopTimeoutSeconds":9}""");
            var options = DaemonConfigLoader.Load(DaemonArgumentParser.Parse(["--config", file, "--state-dir", "/from-cli"]));
            Assert.Equal("/from-cli", options.StateDirectory);
            Assert.Equal("/run-file", options.RuntimeDirectory);
            Assert.Equal("/q", options.QemuBinary);
            Assert.Equal(["kvm"], options.AllowedGroups);
            Assert.Equal("off", options.ScopeBus);
            Assert.Equal(TimeSpan.FromSeconds(9), options.StopTimeout);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
