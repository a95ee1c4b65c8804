using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

/// <summary>The files a definition names, checked at define time against the real file system.</summary>
public sealed class DefinitionFileCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lm-filecheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DefinitionException Refused(string json) =>
        Assert.Throws<DefinitionException>(() => DefinitionFileCheck.ThrowIfUnusable(DefinitionParser.Parse(json)));

    [Fact]
    public void ThrowIfUnusable_KernelAndInitrdAreDirectories_RefusesBothByField()
    {
        var e = Refused($$"""{"name":"x","kernel":"{{_dir}}","initrd":"/tmp"}""");
        Assert.Equal(["kernel", "initrd"], e.Errors.Select(x => x.Field));
        Assert.Contains($"kernel: {_dir} is a directory, not a file", e.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/null")]
    public void ThrowIfUnusable_KernelIsADevice_IsRefused(string device) =>
        Assert.Contains($"kernel: {device} is empty or not a regular file", Refused($$"""{"name":"x","kernel":"{{device}}"}""").Message);

    [Fact]
    public void ThrowIfUnusable_DiskIsADirectory_IsRefusedByIndex()
    {
        var image = Path.Combine(_dir, "a.img");
        File.WriteAllBytes(image, new byte[512]);
        var e = Refused($$"""{"name":"x","disks":[{"path":"{{image}}"},{"path":"{{_dir}}"}]}""");
        Assert.Equal("disks[1].path", Assert.Single(e.Errors).Field);
    }

    [Fact]
    public void ThrowIfUnusable_RegularFilesOrNotYetThere_AreAccepted()
    {
        var kernel = Path.Combine(_dir, "vmlinuz");
        File.WriteAllBytes(kernel, new byte[4096]);
        DefinitionFileCheck.ThrowIfUnusable(DefinitionParser.Parse($$"""{"name":"x","kernel":"{{kernel}}","initrd":"{{_dir}}/later.img"}"""));
    }
}
