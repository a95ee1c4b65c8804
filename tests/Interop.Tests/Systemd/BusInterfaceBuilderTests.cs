using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class BusInterfaceBuilderTests
{
    private static Task<object?[]> Nothing(BusMethodCall call) => Task.FromResult<object?[]>([]);

    [Theory]
    [InlineData("a{sv")]
    [InlineData("(")]
    [InlineData("a")]
    [InlineData("{sv}")]
    [InlineData("z")]
    public void Method_InvalidSignature_Throws(string signature)
    {
        Assert.Throws<ArgumentException>(() => new BusInterfaceBuilder("org.localmigrate1.X").Method("M", signature, "", Nothing));
    }

    [Fact]
    public void Method_NameCountMismatch_Throws()
    {
        Assert.Throws<ArgumentException>(() => new BusInterfaceBuilder("org.localmigrate1.X").Method("M", "sa{sv}", "o", Nothing, ["uri"]));
    }

    [Fact]
    public void Member_DeclaredTwice_Throws()
    {
        var builder = new BusInterfaceBuilder("org.localmigrate1.X").Method("M", "", "", Nothing);

        Assert.Throws<ArgumentException>(() => builder.Property("M", "s", () => ""));
    }

    [Fact]
    public void Property_ConstAndEmitsChange_Throws()
    {
        Assert.Throws<ArgumentException>(() => new BusInterfaceBuilder("org.localmigrate1.X")
            .Property("P", "s", () => "", BusPropertyFlags.Const | BusPropertyFlags.EmitsChange));
    }

    [Fact]
    public void Constructor_InvalidInterfaceName_Throws()
    {
        Assert.Throws<ArgumentException>(() => new BusInterfaceBuilder("nodots"));
    }

    [Fact]
    public void Build_ValidDeclarations_ExposesThem()
    {
        var iface = new BusInterfaceBuilder("org.localmigrate1.Domain")
            .Method("Migrate", "sa{sv}", "o", Nothing, ["uri", "options"], ["job"])
            .Property("Name", "s", () => "a", BusPropertyFlags.Const)
            .Signal("Changed", "a(su)")
            .Build();

        Assert.Equal("org.localmigrate1.Domain", iface.Name);
        Assert.Equal(["uri", "options"], iface.Methods[0].InNames);
        Assert.Single(iface.Properties);
        Assert.Equal("a(su)", iface.Signals[0].Signature);
    }
}
