using LocalMigrate.UpgradeDaemon.Snapshots;

namespace LocalMigrate.UpgradeDaemon.Tests.Snapshots;

/// <summary>qemu-img info JSON as QEMU 7.2 writes it, and what the parser refuses.</summary>
public sealed class ImageInfoParserTests
{
    private const string Qcow2WithSnapshots = """
        {
            "snapshots": [
                {"icount": 0, "vm-state-size": 0, "date-sec": 1764752400, "date-nsec": 500000000, "vm-clock-nsec": 0,
                 "name": "disk1", "vm-clock-sec": 0, "id": "1"},
                {"vm-state-size": 26214400, "date-sec": 1764752460, "date-nsec": 0, "vm-clock-nsec": 12,
                 "name": "live", "vm-clock-sec": 31, "id": "2"}
            ],
            "virtual-size": 16777216, "filename": "/tmp/d.qcow2", "cluster-size": 65536, "format": "qcow2",
            "actual-size": 200704, "format-specific": {"type": "qcow2", "data": {"compat": "1.1"}}, "dirty-flag": false
        }
        """;

    [Fact]
    public void Parse_Qcow2WithSnapshots_ReadsEachSnapshot()
    {
        var info = ImageInfoParser.Parse(Qcow2WithSnapshots);

        Assert.Equal("/tmp/d.qcow2", info.Filename);
        Assert.Equal("qcow2", info.Format);
        Assert.Equal(
            [
                new ImageSnapshot("1", "disk1", 0, DateTimeOffset.FromUnixTimeSeconds(1764752400).AddMilliseconds(500)),
                new ImageSnapshot("2", "live", 26214400, DateTimeOffset.FromUnixTimeSeconds(1764752460)),
            ], info.Snapshots);
    }

    [Fact]
    public void Parse_RawImage_HasNoSnapshots()
    {
        var info = ImageInfoParser.Parse("""{"virtual-size": 1048576, "filename": "/d.img", "format": "raw", "actual-size": 0, "dirty-flag": false}""");

        Assert.Equal("raw", info.Format);
        Assert.Empty(info.Snapshots);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("""{"format": "qcow2"}""", "image.filename")]
    [InlineData("""{"filename": "/d", "format": "qcow2", "snapshots": {}}""", "snapshots is not an array")]
    [InlineData("""{"filename": "/d", "format": "qcow2", "snapshots": [{"id": "1", "date-sec": 1}]}""", "snapshots[0].name")]
    [InlineData("""{"filename": "/d", "format": "qcow2", "snapshots": [{"id": "1", "name": "a", "date-sec": "x"}]}""", "snapshots[0].date-sec")]
    public void Parse_Malformed_NamesTheField(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ImageInfoParser.Parse(json));
        Assert.Contains(expected, e.Message);
    }
}
