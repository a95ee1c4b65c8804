using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Api;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

/// <summary>Every key of the option set, canonical and Salt alias, good and bad values, conflicts: one table each.</summary>
public sealed class MigrationOptionsAliasTests
{
    private const long MiB = 1L << 20;

    public static TheoryData<string, object, string, object?> GoodValues => new()
    {
        // key, value, what to read back (a MigrationOptions property), expected
        { "maxBandwidth", 1000UL, nameof(MigrationOptions.MaxBandwidth), 1000L },
        { "max_bandwidth", 8U, nameof(MigrationOptions.MaxBandwidth), 8 * MiB },
        { "max_bandwidth", 8, nameof(MigrationOptions.MaxBandwidth), 8 * MiB },
        { "downtimeLimitMs", 50U, nameof(MigrationOptions.DowntimeLimitMs), 50 },
        { "max_downtime", 75L, nameof(MigrationOptions.DowntimeLimitMs), 75 },
        { "parallelConnections", 4U, nameof(MigrationOptions.ParallelConnections), 4 },
        { "parallel_connections", 2, nameof(MigrationOptions.ParallelConnections), 2 },
        { "autoConverge", true, nameof(MigrationOptions.AutoConverge), true },
        { "auto_converge", true, nameof(MigrationOptions.AutoConverge), true },
        { "postcopy", true, nameof(MigrationOptions.Postcopy), true },
        { "timeoutSeconds", 60U, nameof(MigrationOptions.Timeout), TimeSpan.FromSeconds(60) },
        { "ignoreShared", false, nameof(MigrationOptions.IgnoreShared), false },
        { "convergePolicy", "pause", nameof(MigrationOptions.ConvergePolicy), MigrationConvergePolicy.Pause },
        { "convergePasses", 5U, nameof(MigrationOptions.ConvergePasses), 5 },
        { "convergeTimeoutSeconds", 9U, nameof(MigrationOptions.ConvergeTimeout), (TimeSpan?)TimeSpan.FromSeconds(9) },
    };

    [Theory]
    [MemberData(nameof(GoodValues))]
    public void Read_GoodValue_SetsTheOption(string key, object value, string property, object? expected)
    {
        var options = MigrationOptionsReader.Read(new Dictionary<string, object> { [key] = value });
        Assert.Equal(expected, typeof(MigrationOptions).GetProperty(property)!.GetValue(options));
    }

    [Fact]
    public void Read_SaltCompressionNames_MapToMultifdAndXbzrle()
    {
        var mt = MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["compressed"] = true, ["comp_methods"] = "mt", ["comp_mt_threads"] = 3U, ["comp_mt_level"] = 5U,
        });
        Assert.True(mt.UsesMtCompression);
        Assert.True(mt.UsesMultifd);
        Assert.Equal(3, mt.MultifdChannels);
        Assert.Equal(5, mt.CompressMtLevel);

        var xbzrle = MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["compressed"] = true, ["comp_methods"] = new[] { "xbzrle" }, ["comp_xbzrle_cache"] = 64UL,
        });
        Assert.True(xbzrle.UsesXbzrle);
        Assert.False(xbzrle.UsesMultifd);
        Assert.Equal(64 * MiB, xbzrle.CompressXbzrleCacheBytes);

        var postcopy = MigrationOptionsReader.Read(new Dictionary<string, object> { ["postcopy"] = true, ["postcopy_bandwidth"] = 10U });
        Assert.Equal(10 * MiB, postcopy.PostcopyBandwidth);
    }

    [Fact]
    public void Read_RemoteOnlyOptions_RefusedLocallyAcceptedRemotely()
    {
        var values = new Dictionary<string, object> { ["live"] = false, ["persistent"] = false, ["undefinesource"] = false };
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(values));
        Assert.Contains("option offline (live): only for a migration to another host", e.Message);
        Assert.Contains("option persistent: only for a migration to another host", e.Message);
        Assert.Contains("option undefineSource (undefinesource): only for a migration to another host", e.Message);

        var remote = MigrationOptionsReader.Read(values, remote: true);
        Assert.True(remote.Offline);
        Assert.False(remote.Persistent);
        Assert.False(remote.UndefineSource);
    }

    [Theory]
    [InlineData("maxBandwidth", 0UL, "option maxBandwidth: bad value 0 (type t), expected bytes per second > 0")]
    [InlineData("max_bandwidth", "fast", "option max_bandwidth: bad value 'fast' (type s), expected MiB per second > 0")]
    [InlineData("max_downtime", 0U, "option max_downtime: bad value 0 (type u), expected milliseconds 1 to 2000000")]
    [InlineData("parallel_connections", 0U, "option parallel_connections: bad value 0 (type u), expected 1 to 255")]
    [InlineData("parallelConnections", 256U, "option parallelConnections: bad value 256 (type u), expected 1 to 255")]
    [InlineData("compressed", 1U, "option compressed: bad value 1 (type u), expected type b")]
    [InlineData("comp_methods", "lz4", "option comp_methods: bad value 'lz4' (type s), expected \"mt\", \"xbzrle\"")]
    [InlineData("compMtAlgorithm", "lz4", "option compMtAlgorithm: bad value 'lz4' (type s), expected \"zstd\" or \"zlib\"")]
    [InlineData("comp_mt_level", 21U, "option comp_mt_level: bad value 21 (type u), expected 0 to 20")]
    [InlineData("comp_mt_threads", -1, "option comp_mt_threads: bad value -1 (type i), expected 1 to 255")]
    [InlineData("comp_xbzrle_cache", 0UL, "option comp_xbzrle_cache: bad value 0 (type t), expected MiB 1 to 1048576")]
    [InlineData("postcopy", "yes", "option postcopy: bad value 'yes' (type s), expected type b")]
    [InlineData("postcopy_bandwidth", 0U, "option postcopy_bandwidth: bad value 0 (type u), expected MiB per second > 0")]
    [InlineData("auto_converge", "on", "option auto_converge: bad value 'on' (type s), expected type b")]
    [InlineData("live", 0U, "option live: bad value 0 (type u), expected type b")]
    [InlineData("persistent", "no", "option persistent: bad value 'no' (type s), expected type b")]
    [InlineData("undefinesource", 1, "option undefinesource: bad value 1 (type i), expected type b")]
    [InlineData("convergePolicy", "wait", "option convergePolicy: bad value 'wait' (type s), expected \"cancel\", \"postcopy\" or \"pause\"")]
    [InlineData("convergePasses", 0U, "option convergePasses: bad value 0 (type u), expected passes 1 to 100000")]
    [InlineData("convergeTimeoutSeconds", 0U, "option convergeTimeoutSeconds: bad value 0 (type u), expected seconds 1 to 86400")]
    public void Read_BadValue_NamesKeyValueAndType(string key, object value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(new Dictionary<string, object> { [key] = value }));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("maxBandwidth", 1048576UL, "max_bandwidth", 2U)]
    [InlineData("downtimeLimitMs", 10U, "max_downtime", 20U)]
    [InlineData("parallelConnections", 2U, "parallel_connections", 4U)]
    [InlineData("autoConverge", true, "auto_converge", false)]
    [InlineData("offline", true, "live", true)]
    [InlineData("undefineSource", true, "undefinesource", false)]
    public void Read_CanonicalAndAliasDisagree_ErrorNamesBoth(string key, object value, string alias, object aliasValue)
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(
            new Dictionary<string, object> { [key] = value, [alias] = aliasValue }, remote: true));
        Assert.Contains($"option {key} ", e.Message);
        Assert.Contains($"and its alias {alias} ", e.Message);
        Assert.Contains("disagree", e.Message);
    }

    [Fact]
    public void Read_CanonicalAndAliasAgree_Accepted()
    {
        var options = MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["maxBandwidth"] = 2UL * 1048576, ["max_bandwidth"] = 2U, ["offline"] = true, ["live"] = false,
        }, remote: true);
        Assert.Equal(2 * MiB, options.MaxBandwidth);
        Assert.True(options.Offline);
    }

    public static TheoryData<Dictionary<string, object>, string[]> Conflicts => new()
    {
        {
            new() { ["parallel_connections"] = 2U, ["postcopy"] = true },
            ["option parallelConnections (parallel_connections) 2 with postcopy: multifd with postcopy crashes the destination on QEMU 7.2"]
        },
        {
            new() { ["compressed"] = true, ["comp_methods"] = "mt", ["postcopy"] = true },
            ["option compMethods (comp_methods) mt (multifd) with postcopy"]
        },
        {
            new() { ["compressed"] = true, ["comp_methods"] = "mt,xbzrle" },
            ["option compMethods (comp_methods) mt (multifd) with compMethods (comp_methods) xbzrle: QEMU accepts xbzrle with multifd but never uses it"]
        },
        {
            new() { ["parallelConnections"] = 4U, ["compressed"] = true, ["comp_methods"] = "xbzrle" },
            ["option parallelConnections (parallel_connections) 4 with compMethods (comp_methods) xbzrle"]
        },
        {
            new() { ["parallelConnections"] = 4U, ["compressed"] = true, ["comp_mt_threads"] = 2U },
            ["option parallelConnections (parallel_connections) 4 and compMtThreads (comp_mt_threads) 2 disagree"]
        },
        {
            new() { ["comp_mt_level"] = 3U, ["comp_xbzrle_cache"] = 8UL },
            ["option compMtLevel (comp_mt_level) needs compressed true", "option compXbzrleCacheMiB (comp_xbzrle_cache) needs compressed true"]
        },
        {
            new() { ["compressed"] = true, ["comp_methods"] = "xbzrle", ["comp_mt_level"] = 3U },
            ["option compMtLevel (comp_mt_level) needs compMethods (comp_methods) mt"]
        },
        {
            new() { ["compressed"] = true, ["comp_xbzrle_cache"] = 8UL },
            ["option compXbzrleCacheMiB (comp_xbzrle_cache) needs compMethods (comp_methods) xbzrle"]
        },
        {
            new() { ["compressed"] = true, ["compMtAlgorithm"] = "zlib", ["comp_mt_level"] = 12U },
            ["option compMtLevel (comp_mt_level): bad value 12 for zlib, expected 0 to 9"]
        },
        {
            new() { ["postcopy_bandwidth"] = 5U },
            ["option postcopyBandwidth (postcopy_bandwidth) needs postcopy true"]
        },
        {
            new() { ["convergePolicy"] = "postcopy" },
            ["option convergePolicy postcopy needs postcopy true"]
        },
        {
            new() { ["ignoreShared"] = true, ["postcopy"] = true },
            ["option ignoreShared with postcopy"]
        },
    };

    [Theory]
    [MemberData(nameof(Conflicts))]
    public void Read_BrokenCombination_RefusedNamingBothOptions(Dictionary<string, object> values, string[] expected)
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(values));
        foreach (var text in expected)
            Assert.Contains(text, e.Message);
    }

    [Fact]
    public void Read_ManyProblems_AllReportedAtOnce()
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(new Dictionary<string, object>
        {
            ["max_bandwidth"] = "x", ["speed"] = 1, ["parallel_connections"] = 2U, ["postcopy"] = true, ["live"] = false,
        }));
        Assert.Contains("option max_bandwidth: bad value", e.Message);
        Assert.Contains("option speed: unknown", e.Message);
        Assert.Contains("multifd with postcopy", e.Message);
        Assert.Contains("option offline (live): only for a migration to another host", e.Message);
    }

    [Fact]
    public void Read_Nothing_Defaults()
    {
        var options = MigrationOptionsReader.Read(new Dictionary<string, object>());
        Assert.Equal(MigrationConvergePolicy.Cancel, options.ConvergePolicy);
        Assert.Equal(MigrationOptions.DefaultConvergePasses, options.ConvergePasses);
        Assert.Null(options.ConvergeTimeout);
        Assert.False(options.UsesMultifd);
        Assert.Null(options.CompressMtAlgorithm);
        Assert.Equal(MultifdCompression.Zstd, options.CompressMtAlgorithm ?? MultifdCompression.Zstd);
    }
}
