using System.Text;
using LocalMigrate.UpgradeDaemon.Snapshots;

namespace LocalMigrate.UpgradeDaemon.Tests.Snapshots;

/// <summary>Records that arrive by remote migration, checked against the images here; and their wire form.</summary>
public sealed class SnapshotArrivalTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1764752400);
    private static readonly DateTimeOffset T1 = T0.AddMinutes(5);

    private static ImageSnapshot Image(string name, long vmState = 0) => new("1", name, vmState, T1);

    [Fact]
    public void Reconcile_SentRecordsTheImagesAgreeWith_KeptAsSentWithoutProblem()
    {
        var records = SnapshotArrival.Reconcile([new SnapshotRecord("live", T0, true, ["/a"]), new SnapshotRecord("disk", T0, false, ["/a"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("live", 4096), Image("disk"), Image("handmade")] });

        Assert.Equal([new SnapshotRecord("live", T0, true, ["/a"]), new SnapshotRecord("disk", T0, false, ["/a"])], records,
            (x, y) => x.Name == y.Name && x.Created == y.Created && x.VmState == y.VmState && x.Disks.SequenceEqual(y.Disks) && x.Problem is null && y.Problem is null);
    }

    [Fact]
    public void Reconcile_VmStateDisagrees_RecordSaysWhatTheImageHoldsAndMarksIt()
    {
        var record = Assert.Single(SnapshotArrival.Reconcile([new SnapshotRecord("s", T0, true, ["/a"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s")] }));

        Assert.False(record.VmState);
        Assert.Contains("VM state", record.Problem);
    }

    [Fact]
    public void Reconcile_MissingFromAnImage_KeptAsSentAndMarked()
    {
        var record = Assert.Single(SnapshotArrival.Reconcile([new SnapshotRecord("s", T0, false, ["/a", "/b"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s")], ["/b"] = [] }));

        Assert.Equal(["/a", "/b"], record.Disks);
        Assert.Contains("/b did not hold it", record.Problem);
        Assert.Equal(SnapshotStatus.Missing, SnapshotService.Compare([record],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s")], ["/b"] = [] })[0].Status);
    }

    [Fact]
    public void Reconcile_NothingSent_RecordsMadeFromTheImages()
    {
        var records = SnapshotArrival.Reconcile(null,
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s", 10)], ["/b"] = [Image("s"), Image("t")] });

        Assert.Equal(["s", "t"], records.Select(r => r.Name));
        Assert.Equal(["/a", "/b"], records[0].Disks);
        Assert.True(records[0].VmState);
        Assert.All(records, r => Assert.Null(r.Problem));
    }

    [Fact]
    public void FromJson_WhatTheCatalogWrites_ReadsBack()
    {
        var sent = new List<SnapshotRecord> { new("live", T0, true, ["/a"]) };

        var read = Assert.Single(SnapshotCatalog.FromJson(Encoding.UTF8.GetString(SnapshotCatalog.ToUtf8Json(sent))));

        Assert.Equal(("live", T0, true), (read.Name, read.Created, read.VmState));
        Assert.Equal(["/a"], read.Disks);
    }

    [Theory]
    [InlineData("{}", "not a list")]
    [InlineData("null", "not a list")]
    [InlineData("[{\"name\":\"s\",\"created\":\"2026-01-01T00:00:00Z\",\"vmState\":false,\"disks\":[]}]", "at least one disk")]
    [InlineData("[{\"name\":\"bad name\",\"created\":\"2026-01-01T00:00:00Z\",\"vmState\":false,\"disks\":[\"/a\"]}]", "not a snapshot name")]
    [InlineData("[{\"name\":\"s\",\"created\":\"2026-01-01T00:00:00Z\",\"vmState\":false,\"disks\":[\"/a\"]},{\"name\":\"s\",\"created\":\"2026-01-01T00:00:00Z\",\"vmState\":false,\"disks\":[\"/a\"]}]", "listed twice")]
    public void FromJson_BadList_RefusedSayingWhy(string json, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => SnapshotCatalog.FromJson(json));

        Assert.Contains(expected, e.Message);
    }
}
