using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

public sealed class DefinitionParserTests
{
    private const string Minimal = """{"name":"vm1","kernel":"/boot/vmlinuz"}""";

    private static DefinitionException Refused(string json) => Assert.Throws<DefinitionException>(() => DefinitionParser.Parse(json));

    private static void AssertField(DefinitionException e, string field, string? messagePart = null)
    {
        var error = Assert.Single(e.Errors, x => x.Field == field);
        if (messagePart is not null)
            Assert.Contains(messagePart, error.Message);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Parse_Minimal_FillsDefaultsAndGeneratesUuid()
    {
        var d = DefinitionParser.Parse(Minimal);
        Assert.Equal("vm1", d.Name);
        Assert.NotEqual(Guid.Empty, d.Uuid);
        Assert.Equal(256, d.MemoryMiB);
        Assert.Equal(1, d.Vcpus);
        Assert.Equal("q35", d.Machine);
        Assert.Equal(MemoryBacking.Shared, d.MemoryBacking);
        Assert.Null(d.Accel);
    }

    [Fact]
    public void Parse_Full_ReadsEveryField()
    {
        var d = DefinitionParser.Parse("""
            {"schemaVersion":1,"name":"web-1.prod","uuid":"6f1c2e1a-7d1b-4a7e-9a43-1c0f7c9e2b11","memoryMiB":1024,"vcpus":2,
             "machine":"pc-q35-7.2","accel":"tcg","qemu":"/usr/bin/qemu-system-x86_64","kernel":"/k","initrd":"/i","cmdline":"console=ttyS0",
             "disks":[{"path":"/var/lib/img/a.qcow2","format":"qcow2","readonly":true,"shared":true}],
             "nics":[{"type":"user","model":"e1000","mac":"52:54:00:AB:cd:01"}],"memoryBacking":"private"}
            """);
        Assert.Equal(Guid.Parse("6f1c2e1a-7d1b-4a7e-9a43-1c0f7c9e2b11"), d.Uuid);
        Assert.Equal(1024, d.MemoryMiB);
        Assert.Equal("pc-q35-7.2", d.Machine);
        Assert.Equal("tcg", d.Accel);
        Assert.Equal(new DiskDefinition("/var/lib/img/a.qcow2", "qcow2", true, true), Assert.Single(d.Disks));
        Assert.Equal(new NicDefinition("user", "e1000", "52:54:00:ab:cd:01"), Assert.Single(d.Nics));
        Assert.Equal(MemoryBacking.Private, d.MemoryBacking);
    }

    [Fact]
    public void Parse_ManyBadFields_ReportsEveryOneAtOnce()
    {
        var e = Refused("""
            {"name":"a/b","uuid":"nope","memoryMiB":1,"vcpus":"two","accel":"xen","memoryBacking":"huge","kernel":"relative/k",
             "disks":[{"format":"vmdk","readonly":"yes","colour":1}],"nics":[{"type":"tap","mac":"zz"}],"memoryMib":512}
            """);
        AssertField(e, "name", "not a valid domain name");
        AssertField(e, "uuid");
        AssertField(e, "memoryMiB", "out of range");
        AssertField(e, "vcpus", "whole number");
        AssertField(e, "accel", "kvm, tcg");
        AssertField(e, "memoryBacking");
        AssertField(e, "kernel", "absolute");
        AssertField(e, "disks[0].path", "required");
        AssertField(e, "disks[0].format", "raw, qcow2");
        AssertField(e, "disks[0].readonly");
        AssertField(e, "disks[0].colour", "unknown field");
        AssertField(e, "nics[0].type");
        AssertField(e, "nics[0].mac");
        AssertField(e, "memoryMib", "unknown field");
        Assert.Equal(14, e.Errors.Count);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData(".hidden")]
    [InlineData("-rf")]
    [InlineData("a\u0000b")]
    [InlineData("")]
    [InlineData("white space")]
    [InlineData("ünïcode")]
    public void Parse_PathTrickName_IsRefusedByName(string name)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new { name, kernel = "/k" });
        AssertField(Refused(json), "name", "not a valid domain name");
    }

    [Fact]
    public void Parse_NameOf65Characters_IsRefused()
    {
        AssertField(Refused($$"""{"name":"{{new string('a', 65)}}","kernel":"/k"}"""), "name");
        Assert.Equal(new string('a', 64), DefinitionParser.Parse($$"""{"name":"{{new string('a', 64)}}","kernel":"/k"}""").Name);
    }

    [Fact]
    public void Parse_MissingName_SaysRequired() => AssertField(Refused("""{"kernel":"/k"}"""), "name", "required");

    [Fact]
    public void Parse_NoKernelNoDisk_SaysWhatIsMissing() => AssertField(Refused("""{"name":"x"}"""), "kernel", "kernel or at least one disk");

    [Fact]
    public void Parse_InitrdWithoutKernel_IsRefused()
    {
        var e = Refused("""{"name":"x","initrd":"/i","disks":[{"path":"/d"}]}""");
        AssertField(e, "initrd", "needs kernel");
    }

    [Fact]
    public void Parse_PathWithComma_IsRefusedBecauseItWouldInjectQemuOptions() =>
        AssertField(Refused("""{"name":"x","kernel":"/k,readonly=off"}"""), "kernel", "','");

    [Fact]
    public void Parse_UnsupportedSchemaVersion_IsRefused() =>
        AssertField(Refused("""{"schemaVersion":2,"name":"x","kernel":"/k"}"""), "schemaVersion");

    [Theory]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("\"x\"")]
    public void Parse_NotAnObject_IsRefusedAsDocument(string json) => AssertField(Refused(json), "(document)");

    [Fact]
    public void Parse_WrittenDefinition_RoundTrips()
    {
        var original = DefinitionParser.Parse("""
            {"name":"rt","memoryMiB":512,"machine":"pc-q35-7.2","accel":"tcg","kernel":"/k","cmdline":"a b","memoryBacking":"private",
             "disks":[{"path":"/d.img"}],"nics":[{}]}
            """);
        var again = DefinitionParser.Parse(System.Text.Encoding.UTF8.GetString(DefinitionWriter.ToUtf8Json(original)));
        Assert.Equal(original.Uuid, again.Uuid);
        Assert.Equal(original.Nics, again.Nics);
        Assert.Equal(original.Disks, again.Disks);
        Assert.Equal(original with { Disks = [], Nics = [] }, again with { Disks = [], Nics = [] });
    }
}
