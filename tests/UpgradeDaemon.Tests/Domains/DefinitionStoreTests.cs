using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

public sealed class DefinitionStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lm-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Save_ThenLoadAll_ReturnsTheDefinitionWithMode0600AndNoTempFiles()
    {
        var store = new DefinitionStore(_dir);
        var definition = DefinitionParser.Parse("""{"name":"a","kernel":"/k","machine":"pc-q35-7.2"}""");
        store.Save(definition);
        store.Save(definition with { MemoryMiB = 512 });
        var loaded = Assert.Single(store.LoadAll((f, e) => Assert.Fail($"{f}: {e}")));
        Assert.Equal(512, loaded.MemoryMiB);
        Assert.Equal(definition.Uuid, loaded.Uuid);
        var file = Assert.Single(Directory.GetFiles(store.Directory));
        Assert.EndsWith($"{definition.Uuid}.json", file);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public void LoadAll_CorruptFile_IsReportedAndSkipped()
    {
        var store = new DefinitionStore(_dir);
        store.Save(DefinitionParser.Parse("""{"name":"good","kernel":"/k"}"""));
        File.WriteAllText(Path.Combine(store.Directory, "bad.json"), "{\"name\":");
        var errors = new List<string>();
        var loaded = store.LoadAll((f, _) => errors.Add(f));
        Assert.Equal("good", Assert.Single(loaded).Name);
        Assert.EndsWith("bad.json", Assert.Single(errors));
    }
}
