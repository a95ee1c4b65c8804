using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Api;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Remote;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>The storage-copy options as the a{sv} of Migrate and as Peer.Prepare's copyDisks/copyBackings carry them.</summary>
public sealed class StorageCopyPlanTests
{
    [Theory]
    [InlineData("copyStorage", "all", CopyStorage.All)]
    [InlineData("copy_storage", "inc", CopyStorage.Inc)]
    [InlineData("copyStorage", "none", CopyStorage.None)]
    public void Read_CopyStorageUnderEitherName_Typed(string key, string value, CopyStorage expected) =>
        Assert.Equal(expected, MigrationOptionsReader.Read(new Dictionary<string, object> { [key] = value }, remote: true).CopyStorage);

    [Theory]
    [InlineData(false, null, "only for a migration to another host")]
    [InlineData(true, "offline", "a shut-off domain's disks are files to copy")]
    [InlineData(true, "postcopy", "the disks switch at the end of the RAM copy, which postcopy skips")]
    public void Read_CopyStorageWhereItCannotWork_RefusedWithTheReason(bool remote, string? with, string reason)
    {
        var values = new Dictionary<string, object> { ["copyStorage"] = "all" };
        if (with is not null)
            values[with] = true;
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(values, remote));
        Assert.Contains("option copyStorage (copy_storage)", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Read_CopyStorageBadValue_NamesTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => MigrationOptionsReader.Read(new Dictionary<string, object> { ["copy_storage"] = "some" }, remote: true));
        Assert.Contains("option copy_storage: bad value 'some' (type s), expected \"none\", \"all\" or \"inc\"", e.Message);
    }

    [Fact]
    public void Parse_WhatTheSourceSends_ReadsBackTheSameDisks()
    {
        CopiedDisk[] disks =
        [
            new(0, 64L << 20, MirrorSync.Full), new(1, 64L << 20, MirrorSync.Full, BaseFileLength: 101384192),
            new(2, 1L << 30, MirrorSync.Top, ("/var/lib/images/base:1.qcow2", "qcow2"), 327680),
        ];

        var parsed = StorageCopyPlan.Parse(StorageCopyPlan.DiskEntries(disks), StorageCopyPlan.BackingEntries(disks), diskCount: 3);

        Assert.Equal(disks, parsed);
        Assert.Equal([false, true, true], parsed.Select(d => d.CarriesSnapshots));
    }

    [Theory]
    [InlineData("3:1024:full", null, "bad entry '3:1024:full'")]
    [InlineData("0:0:full", null, "bad entry '0:0:full'")]
    [InlineData("0:1024:incremental", null, "bad entry '0:1024:incremental'")]
    [InlineData("0:1024:top", null, "disk 0 syncs top but copyBackings names no backing file")]
    [InlineData("0:1024:full:0", null, "bad entry '0:1024:full:0'")]
    [InlineData("0:1024:full:-5", null, "bad entry '0:1024:full:-5'")]
    [InlineData("0:1024:full:12:3", null, "bad entry '0:1024:full:12:3'")]
    [InlineData("0:1024:full", "0:qcow2:/b.qcow2", "option copyBackings: bad entry '0:qcow2:/b.qcow2'")]
    [InlineData("0:1024:top", "0:vmdk:/b.vmdk", "option copyBackings: bad entry '0:vmdk:/b.vmdk'")]
    public void Parse_BadEntries_RefusedByName(string disk, string? backing, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => StorageCopyPlan.Parse([disk], backing is null ? [] : [backing], diskCount: 3));
        Assert.Contains(expected, e.Message);
    }
}
