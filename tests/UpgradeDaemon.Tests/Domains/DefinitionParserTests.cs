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
             "disks":[{"format":"vmdk","readonly":"yes","colour":1}],"nics":[{"type":"vde","mac":"zz"}],"memoryMib":512}
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

    private static string Nics(int count) => "[" + string.Join(",", Enumerable.Repeat("{}", count)) + "]";

    private static string Disks(int count) => "[" + string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"path":"/d{{i}}"}""")) + "]";

    [Fact]
    public void Parse_DocumentOneByteOverTheLimit_IsRefusedNamingTheLimit()
    {
        var padded = Minimal.PadRight(DefinitionLimits.MaxDocumentBytes, ' ');
        Assert.Equal("vm1", DefinitionParser.Parse(padded).Name);
        AssertField(Refused(padded + " "), "(document)", "larger than 1048576 bytes (1 MiB)");
    }

    [Fact]
    public void Parse_FewerCharactersThanTheLimitButMoreUtf8Bytes_IsRefused()
    {
        // 600k two-byte characters: 600k UTF-16 chars, 1.2 MB as UTF-8.
        var json = $$"""{"name":"x","kernel":"/k","cmdline":"{{new string('é', 600_000)}}"}""";
        Assert.True(json.Length < DefinitionLimits.MaxDocumentBytes);
        AssertField(Refused(json), "(document)", "1 MiB");
    }

    [Fact]
    public void Parse_HugeNicArray_IsRefusedByLengthBeforeAnyNicIsBuilt()
    {
        // ~350k NICs fit in 1 MiB; each would have become a record with a generated MAC (issue 11: 10 million took 6 GB).
        var count = (DefinitionLimits.MaxDocumentBytes - 64) / 3;
        var json = $$"""{"name":"x","kernel":"/k","nics":{{Nics(count)}}}""";
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Refused(json);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        AssertField(e, "nics", $"{count} entries; at most 30");
        Assert.Single(e.Errors);
        // What stays is the parsed document itself (~12 bytes of metadata per JSON token: ~14 MiB for 700k tokens).
        Assert.True(allocated < 24 << 20, $"refusing {count} NICs allocated {allocated >> 10} KiB");
    }

    [Theory]
    [InlineData(31, 0, "disks", "31 entries; at most 30")]
    [InlineData(0, 31, "nics", "31 entries; at most 30")]
    [InlineData(20, 11, "disks, nics", "20 disks and 11 NICs need 31 PCI slots; the machine has 30 free")]
    public void Parse_MoreDevicesThanPciSlots_IsRefusedNamingTheFieldAndTheLimit(int disks, int nics, string field, string message) =>
        AssertField(Refused($$"""{"name":"x","kernel":"/k","disks":{{Disks(disks)}},"nics":{{Nics(nics)}}}"""), field, message);

    [Fact]
    public void Parse_ThirtyDevices_FillEverySlotAndAreAccepted()
    {
        var d = DefinitionParser.Parse($$"""{"name":"x","kernel":"/k","disks":{{Disks(15)}},"nics":{{Nics(15)}}}""");
        Assert.Equal(15, d.Disks.Count);
        Assert.Equal(15, d.Nics.Count);
    }

    [Theory]
    [InlineData("cmdline")]
    [InlineData("kernel")]
    [InlineData("qemu")]
    public void Parse_StringOverTheLimit_IsRefusedNamingFieldAndLimit(string field)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["name"] = "x", ["kernel"] = "/k", [field] = "/" + new string('a', DefinitionLimits.MaxStringBytes),
        });
        AssertField(Refused(json), field, $"{DefinitionLimits.MaxStringBytes + 1} bytes long; at most 4095");
    }

    [Theory]
    [InlineData("""{"name":"a","kernel":"/k","name":"b"}""", "name")]
    [InlineData("""{"name":"a","kernel":"/k","na\u006de":"b"}""", "name")]
    [InlineData("""{"name":"a","disks":[{"path":"/a"},{"path":"/b","format":"raw","path":"/c"}]}""", "disks[1].path")]
    [InlineData("""{"name":"a","kernel":"/k","nics":[{"mac":"52:54:00:00:00:01","mac":"52:54:00:00:00:02"}]}""", "nics[0].mac")]
    public void Parse_DuplicateKey_IsRefusedNamingTheKeyAndItsPath(string json, string path)
    {
        var e = Refused(json);
        AssertField(e, path, "duplicate key");
        Assert.Contains($"'{path.Split('.')[^1]}'", e.Errors.Single(x => x.Field == path).Message);
    }

    [Fact]
    public void Parse_LargestValidDefinition_StoredFormStillLoads()
    {
        // The writer escapes '<' as \u003C (6 bytes for 1): the worst case for the stored file, which must stay within
        // the limit or the domain would vanish at the next daemon start.
        string LongPath(int i) => $"/{i:d2}" + new string('<', DefinitionLimits.MaxStringBytes - 3);
        var json = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["name"] = new string('n', 64), ["qemu"] = LongPath(97), ["kernel"] = LongPath(98), ["initrd"] = LongPath(99),
            ["cmdline"] = new string('<', DefinitionLimits.MaxStringBytes),
            ["disks"] = Enumerable.Range(0, DefinitionLimits.MaxPciDevices).Select(i => new Dictionary<string, object> { ["path"] = LongPath(i) }).ToArray(),
        });
        var definition = DefinitionParser.Parse(json);
        var stored = DefinitionWriter.ToUtf8Json(definition);
        Assert.True(stored.Length <= DefinitionLimits.MaxDocumentBytes, $"stored form is {stored.Length} bytes");
        var again = DefinitionParser.Parse(System.Text.Encoding.UTF8.GetString(stored));
        Assert.Equal(definition.Disks, again.Disks);
        Assert.Equal(definition.Cmdline, again.Cmdline);
    }

    [Fact]
    public void Parse_FiftyThousandUnknownKeys_MessageShowsTwentyAndCountsTheRest()
    {
        var keys = string.Join(",", Enumerable.Range(0, 50_000).Select(i => $"\"k{i}\":0"));
        var e = Refused($$"""{"name":"x","kernel":"/k",{{keys}}}""");
        Assert.Equal(50_000, e.Errors.Count);
        Assert.EndsWith("; and 49980 more", e.Message);
        Assert.True(e.Message.Length < 1000, e.Message);
    }
}
