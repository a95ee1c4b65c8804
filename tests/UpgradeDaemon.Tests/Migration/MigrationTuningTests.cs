using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

public sealed class MigrationTuningTests
{
    private static MigrationTuning Plan(MigrationOptions options, string sourceVersion = "7.2.22", bool ignoreShared = false)
    {
        var plan = MigrationTuning.Plan(options, sourceVersion, ignoreShared);
        Assert.True(plan.Tuning is not null, string.Join("; ", plan.Errors));
        return plan.Tuning;
    }

    private static bool On(MigrationSideTuning side, MigrationCapability capability) =>
        side.Capabilities.Single(c => c.Capability == capability).State;

    [Theory]
    // QEMU before 9.0 under TCG loses guest writes in a live copy: paused by default, whatever the transport.
    [InlineData("tcg", "7.2.22", false, null, true, "the guest stays paused for the transfer: QEMU 7.2.22 under TCG")]
    [InlineData("tcg", "8.2.2 (Debian 1:8.2.2)", false, null, true, "fixed in QEMU 9.0")]
    // Fixed in 9.0; KVM tracks dirty pages itself; shared RAM mapped by the target (x-ignore-shared) is not copied at all.
    [InlineData("tcg", "9.0.0", false, null, false, null)]
    [InlineData("tcg", "10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)", false, null, false, null)]
    [InlineData("kvm", "7.2.22", false, null, false, null)]
    [InlineData("tcg", "7.2.22", true, null, false, null)]
    // The caller decides when it says so: live at a risk (and said so), or paused where nothing is at risk.
    [InlineData("tcg", "7.2.22", false, false, false, "copied live as asked, at a risk: QEMU 7.2.22 under TCG")]
    [InlineData("kvm", "7.2.22", false, true, true, null)]
    public void Plan_AccelVersionAndPauseGuest_PausesTheGuestOnlyWhereALiveCopyLosesWritesOrWhenAsked(string accel, string version,
        bool ignoreShared, bool? pauseGuest, bool pauses, string? note)
    {
        var plan = MigrationTuning.Plan(new MigrationOptions { PauseGuest = pauseGuest }, version, ignoreShared, accel);

        Assert.NotNull(plan.Tuning);
        Assert.Equal(pauses, plan.Tuning.PausesGuest);
        if (note is null)
            Assert.Null(plan.Tuning.TransferNote);
        else
            Assert.Contains(note, plan.Tuning.TransferNote);
    }

    [Fact]
    public void Plan_LiveOnlyOptionOnTcg72_StaysLiveAndSaysAtARisk()
    {
        foreach (var options in new[]
                 {
                     new MigrationOptions { Postcopy = true },
                     new MigrationOptions { AutoConverge = true },
                     new MigrationOptions { ConvergePolicy = MigrationConvergePolicy.Pause },
                     new MigrationOptions { ConvergeTimeout = TimeSpan.FromSeconds(5) },
                 })
        {
            var tuning = MigrationTuning.Plan(options, "7.2.22", ignoreShared: false, "tcg").Tuning!;

            Assert.False(tuning.PausesGuest, options.ToString());
            Assert.StartsWith("copied live as asked, at a risk", tuning.TransferNote);
        }
    }

    [Fact]
    public void Plan_Defaults_BandwidthAndDowntimeAlwaysSetEveryManagedCapabilitySent()
    {
        var tuning = Plan(new MigrationOptions());
        Assert.Equal(MigrationOptions.UnlimitedBandwidth, tuning.Source.Parameters.MaxBandwidth);
        Assert.Equal(300, tuning.Source.Parameters.DowntimeLimit);
        // multifd-compression is always sent (none here): a QEMU keeps the value an earlier migration left.
        Assert.Equal(["downtime-limit", "max-bandwidth", "multifd-compression"], tuning.Source.Parameters.ToQapiMembers().Keys);
        Assert.Equal(["multifd-compression"], tuning.Target.Parameters.ToQapiMembers().Keys);
        Assert.Equal(MultifdCompression.None, tuning.Source.Parameters.MultifdCompression);
        foreach (var side in new[] { tuning.Source, tuning.Target })
        {
            Assert.Equal(MigrationTuning.Managed.Order(), side.Capabilities.Select(c => c.Capability).Order());
            Assert.True(On(side, MigrationCapability.Events));
            Assert.False(On(side, MigrationCapability.Multifd));
            Assert.False(On(side, MigrationCapability.XIgnoreShared));
        }
        Assert.DoesNotContain(tuning.Source.Capabilities, c => c.Capability == MigrationCapability.Compress);
    }

    [Fact]
    public void Plan_ParallelConnectionsAndZstd_MultifdOnBothSidesWithTheSameChannelsAndCompression()
    {
        var tuning = Plan(new MigrationOptions { ParallelConnections = 2, Compressed = true, CompressMethods = MigrationCompressMethods.Mt });
        foreach (var side in new[] { tuning.Source, tuning.Target })
        {
            Assert.True(On(side, MigrationCapability.Multifd));
            Assert.Equal(2, side.Parameters.MultifdChannels);
            Assert.Equal(MultifdCompression.Zstd, side.Parameters.MultifdCompression);
        }
        Assert.Equal("zstd", tuning.Target.Parameters.ToQapiMembers()["multifd-compression"]);
    }

    [Fact]
    public void Plan_ParallelConnectionsWithoutCompression_MultifdCompressionNone()
    {
        var tuning = Plan(new MigrationOptions { ParallelConnections = 4 });
        Assert.Equal(MultifdCompression.None, tuning.Source.Parameters.MultifdCompression);
        Assert.Equal(4, tuning.Target.Parameters.MultifdChannels);
    }

    [Fact]
    public void Plan_XbzrleAutoConvergeBandwidthDowntime_SourceOnly()
    {
        var tuning = Plan(new MigrationOptions
        {
            Compressed = true, CompressMethods = MigrationCompressMethods.Xbzrle, CompressXbzrleCacheBytes = 64L << 20, AutoConverge = true,
            MaxBandwidth = 8L << 20, DowntimeLimitMs = 40,
        });
        Assert.True(On(tuning.Source, MigrationCapability.Xbzrle));
        Assert.True(On(tuning.Source, MigrationCapability.AutoConverge));
        Assert.False(On(tuning.Target, MigrationCapability.Xbzrle));
        Assert.False(On(tuning.Target, MigrationCapability.AutoConverge));
        Assert.Equal(64L << 20, tuning.Source.Parameters.XbzrleCacheSize);
        Assert.Equal(8L << 20, tuning.Source.Parameters.MaxBandwidth);
        Assert.Equal(40, tuning.Source.Parameters.DowntimeLimit);
        Assert.False(On(tuning.Source, MigrationCapability.Multifd));
    }

    [Fact]
    public void Plan_Postcopy_BothSidesAndUnlimitedPostcopyBandwidthByDefault()
    {
        var tuning = Plan(new MigrationOptions { Postcopy = true });
        Assert.True(On(tuning.Source, MigrationCapability.PostcopyRam));
        Assert.True(On(tuning.Target, MigrationCapability.PostcopyRam));
        Assert.Equal(0, tuning.Source.Parameters.MaxPostcopyBandwidth);
        Assert.Equal(5L << 20, Plan(new MigrationOptions { Postcopy = true, PostcopyBandwidth = 5L << 20 }).Source.Parameters.MaxPostcopyBandwidth);
    }

    [Fact]
    public void Plan_SharedRam_IgnoreSharedOnBothSides()
    {
        var tuning = Plan(new MigrationOptions(), ignoreShared: true);
        Assert.True(On(tuning.Source, MigrationCapability.XIgnoreShared));
        Assert.True(On(tuning.Target, MigrationCapability.XIgnoreShared));
    }

    [Theory]
    [InlineData("7.2.22")]
    [InlineData("8.2.2")]
    public void Plan_CompressionLevelOnASourceBefore9_RefusedWithTheReason(string version)
    {
        var plan = MigrationTuning.Plan(new MigrationOptions { Compressed = true, CompressMtLevel = 3 }, version, false);
        Assert.Null(plan.Tuning);
        var error = Assert.Single(plan.Errors);
        Assert.Contains($"option compMtLevel (comp_mt_level) 3: the source runs QEMU {version}", error);
        Assert.Contains("-global migration.multifd-zstd-level", error);
    }

    [Theory]
    [InlineData(MultifdCompression.Zstd)]
    [InlineData(MultifdCompression.Zlib)]
    public void Plan_CompressionLevelOnASourceFrom9_SentAsTheAlgorithmsLevel(MultifdCompression algorithm)
    {
        var tuning = Plan(new MigrationOptions { Compressed = true, CompressMtAlgorithm = algorithm, CompressMtLevel = 3 }, "10.0.2");
        Assert.Equal(algorithm == MultifdCompression.Zstd ? 3 : null, tuning.Source.Parameters.MultifdZstdLevel);
        Assert.Equal(algorithm == MultifdCompression.Zlib ? 3 : null, tuning.Source.Parameters.MultifdZlibLevel);
        Assert.Null(tuning.Target.Parameters.MultifdZstdLevel);
    }

    [Fact]
    public void Plan_PostcopyOnSharedRam_Refused() =>
        Assert.Contains("postcopy would have nothing to fetch", Assert.Single(MigrationTuning.Plan(new MigrationOptions { Postcopy = true }, "7.2.22", true).Errors));

    [Theory]
    [InlineData("7.2.22", 7, 2)]
    [InlineData("10.0.2 (Debian 1:10.0.2+ds-2)", 10, 0)]
    [InlineData("garbage", 0, 0)]
    public void ParseVersion_MajorMinor(string text, int major, int minor) =>
        Assert.Equal(new Version(major, minor), MigrationTuning.ParseVersion(text));

    [Fact]
    public void ConvergenceWatch_ExpectedDowntimeAboveLimitForNPasses_Triggers()
    {
        var watch = new ConvergenceWatch(passes: 3, downtimeLimitMs: 100, timeout: null);
        var step = MigrationProgress.None with { Remaining = 98L << 20, ExpectedDowntimeMs = 500 };
        Assert.Null(watch.Observe(step with { Passes = 1 }, TimeSpan.Zero));
        Assert.Null(watch.Observe(step with { Passes = 2 }, TimeSpan.Zero));
        Assert.Null(watch.Observe(step with { Passes = 3, ExpectedDowntimeMs = 50 }, TimeSpan.Zero));
        Assert.Null(watch.Observe(step with { Passes = 4 }, TimeSpan.Zero));
        Assert.Null(watch.Observe(step with { Passes = 5 }, TimeSpan.Zero));
        Assert.Null(watch.Observe(step with { Passes = 5 }, TimeSpan.Zero));
        var why = watch.Observe(step with { Passes = 6 }, TimeSpan.Zero);
        Assert.NotNull(why);
        Assert.Contains("expected downtime above the limit for 3 passes in a row (pass 6, 98.0 MiB left, expected downtime 500 ms, limit 100 ms", why);
    }

    [Fact]
    public void ConvergenceWatch_Timeout_Triggers()
    {
        var watch = new ConvergenceWatch(passes: 30, downtimeLimitMs: 300, timeout: TimeSpan.FromSeconds(10));
        Assert.Null(watch.Observe(MigrationProgress.None with { Passes = 1 }, TimeSpan.FromSeconds(9)));
        Assert.Contains("not completed within 10 s", watch.Observe(MigrationProgress.None with { Passes = 1 }, TimeSpan.FromSeconds(10)));
    }
}
