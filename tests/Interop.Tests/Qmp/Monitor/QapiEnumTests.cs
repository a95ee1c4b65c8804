using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.Interop.Tests.Qmp.Monitor;

/// <summary>The enums against QEMU's own spelling: the 'data' lists of qapi/migration.json and qapi/run-state.json (10.0).</summary>
public sealed class QapiEnumTests
{
    private static readonly string[] MigrationStatusValues =
    [
        "none", "setup", "cancelling", "cancelled", "active", "postcopy-active", "postcopy-paused", "postcopy-recover-setup",
        "postcopy-recover", "completed", "failed", "colo", "pre-switchover", "device", "wait-unplug",
    ];

    private static readonly string[] RunStateValues =
    [
        "debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate", "prelaunch", "finish-migrate", "restore-vm",
        "running", "save-vm", "shutdown", "suspended", "watchdog", "guest-panicked", "colo",
    ];

    private static readonly string[] MigrationCapabilityValues =
    [
        "xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks", "compress", "events", "postcopy-ram", "x-colo", "release-ram",
        "block", "return-path", "pause-before-switchover", "multifd", "dirty-bitmaps", "postcopy-blocktime", "late-block-activate",
        "x-ignore-shared", "validate-uuid", "background-snapshot", "zero-copy-send", "postcopy-preempt", "switchover-ack",
        "dirty-limit", "mapped-ram",
    ];

    [Fact]
    public void ToQapiString_EveryMigrationStatus_IsExactlyQemusList() =>
        Assert.Equal(MigrationStatusValues, Enum.GetValues<MigrationStatus>().Where(s => s != MigrationStatus.Unknown).Select(s => s.ToQapiString()));

    [Fact]
    public void ToQapiString_EveryRunState_IsExactlyQemusList() =>
        Assert.Equal(RunStateValues, Enum.GetValues<RunState>().Where(s => s != RunState.Unknown).Select(s => s.ToQapiString()));

    [Fact]
    public void ToQapiString_EveryMigrationCapability_IsExactlyQemusList() =>
        Assert.Equal(MigrationCapabilityValues,
            Enum.GetValues<MigrationCapability>().Where(s => s != MigrationCapability.Unknown).Select(s => s.ToQapiString()));

    [Fact]
    public void Parse_EveryQapiName_RoundTrips()
    {
        Assert.All(MigrationStatusValues, v => Assert.Equal(v, QapiEnum.Parse<MigrationStatus>(v).ToQapiString()));
        Assert.All(RunStateValues, v => Assert.Equal(v, QapiEnum.Parse<RunState>(v).ToQapiString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Active")]
    [InlineData("postcopy-device")]
    public void Parse_UnknownOrMissingValue_ReturnsUnknown(string? value)
    {
        Assert.Equal(MigrationStatus.Unknown, QapiEnum.Parse<MigrationStatus>(value));
        Assert.Equal(RunState.Unknown, QapiEnum.Parse<RunState>(value));
    }

    [Fact]
    public void ToQapiString_Unknown_ThrowsBecauseThereIsNothingToSend() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MigrationCapability.Unknown.ToQapiString());

    [Theory]
    [InlineData(MigrationStatus.Completed, true)]
    [InlineData(MigrationStatus.Failed, true)]
    [InlineData(MigrationStatus.Cancelled, true)]
    [InlineData(MigrationStatus.Cancelling, false)]
    [InlineData(MigrationStatus.Device, false)]
    [InlineData(MigrationStatus.Unknown, false)]
    public void IsTerminal_Status_OnlyCompletedFailedCancelled(MigrationStatus status, bool terminal) =>
        Assert.Equal(terminal, status.IsTerminal());
}
