using LocalMigrate.UpgradeDaemon.Snapshots;

namespace LocalMigrate.UpgradeDaemon.Tests.Snapshots;

/// <summary>The daemon's records against the images' tables: every disagreement is listed.</summary>
public sealed class SnapshotCompareTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1764752400);

    private static ImageSnapshot Image(string name, long vmState = 0) => new("1", name, vmState, T0);

    [Fact]
    public void Compare_RecordedAndPresentEverywhere_IsOk()
    {
        var listing = Assert.Single(SnapshotService.Compare([new SnapshotRecord("s", T0, true, ["/a", "/b"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s", 10)], ["/b"] = [Image("s")] }));

        Assert.Equal(SnapshotStatus.Ok, listing.Status);
        Assert.Empty(listing.MissingFrom);
        Assert.True(listing.VmState);
    }

    [Fact]
    public void Compare_RecordedButGoneFromOneImage_IsMissingFromThatImage()
    {
        var listing = Assert.Single(SnapshotService.Compare([new SnapshotRecord("s", T0, false, ["/a", "/b"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s")], ["/b"] = [] }));

        Assert.Equal(SnapshotStatus.Missing, listing.Status);
        Assert.Equal(["/b"], listing.MissingFrom);
    }

    [Fact]
    public void Compare_RecordedImageUnread_IsMissing()
    {
        var listing = Assert.Single(SnapshotService.Compare([new SnapshotRecord("s", T0, false, ["/gone"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>>()));

        Assert.Equal(SnapshotStatus.Missing, listing.Status);
        Assert.Equal(["/gone"], listing.MissingFrom);
    }

    [Fact]
    public void Compare_InImagesButNotRecorded_IsUntrackedOncePerName()
    {
        var listings = SnapshotService.Compare([new SnapshotRecord("s", T0, false, ["/a"])],
            new Dictionary<string, IReadOnlyList<ImageSnapshot>> { ["/a"] = [Image("s"), Image("x", 5)], ["/b"] = [Image("x")] });

        Assert.Equal(["s", "x"], listings.Select(l => l.Name));
        var untracked = listings[1];
        Assert.Equal(SnapshotStatus.Untracked, untracked.Status);
        Assert.Equal(["/a", "/b"], untracked.Disks);
        Assert.True(untracked.VmState);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-x")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("12")]
    public void CheckName_NotASnapshotName_IsRefusedNamingIt(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => SnapshotService.CheckName(name));
        Assert.Contains($"'{name}'", e.Message);
    }

    [Theory]
    [InlineData("before-upgrade")]
    [InlineData("s1")]
    [InlineData("2026.12.03_a")]
    public void CheckName_SnapshotName_IsAccepted(string name) => SnapshotService.CheckName(name);
}
