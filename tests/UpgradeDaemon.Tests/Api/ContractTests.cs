using LocalMigrate.Contract;
using LocalMigrate.Contract.Client;
using LocalMigrate.UpgradeDaemon.Api;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Tests.Support;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

/// <summary>The contract's records, its checked-in introspection XML and the engine's state strings agree.</summary>
public sealed class ContractTests
{
    public static TheoryData<string> InterfaceNames => new(BusContract.Interfaces.Select(i => i.Name));

    [Theory]
    [MemberData(nameof(InterfaceNames))]
    public void ToIntrospectionXml_EachInterface_EqualsTheCheckedInFile(string name)
    {
        var contract = BusContract.Interfaces.Single(i => i.Name == name);
        var file = Path.Combine(RepositoryRoot.Path, "src", "Contract", "Introspection", name + ".xml");
        Assert.Equal(File.ReadAllText(file), contract.ToIntrospectionXml());
    }

    [Fact]
    public void Interfaces_EveryMember_BelongsToItsInterfaceAndIsNamedOnce()
    {
        foreach (var contract in BusContract.Interfaces)
        {
            Assert.All(contract.Methods, m => Assert.Equal(contract.Name, m.Interface));
            Assert.All(contract.Properties, p => Assert.Equal(contract.Name, p.Interface));
            Assert.Equal(contract.Methods.Count, contract.Methods.Select(m => m.Name).Distinct().Count());
            Assert.Equal(contract.Properties.Count, contract.Properties.Select(p => p.Name).Distinct().Count());
        }
    }

    [Fact]
    public void ContractStrings_EveryEngineState_IsAContractString()
    {
        Assert.All(Enum.GetValues<DomainState>(), s => Assert.Contains(ContractStrings.Of(s), BusContract.DomainStates.All));
        Assert.All(Enum.GetValues<MigrationJobState>(), s => Assert.Contains(ContractStrings.Of(s), BusContract.JobStates.All));
        Assert.All(Enum.GetValues<MigrationKind>(), k => Assert.Contains(ContractStrings.Of(k), BusContract.JobKinds.All));
        Assert.Equal(BusContract.JobPhases.All, Enum.GetValues<MigrationPhase>().Select(p => p.ToString()));
    }

    [Theory]
    [InlineData("unix:path=/run/x/bus", "unix:path=/run/x/bus")]
    [InlineData("unix:abstract=foo,guid=0123", "unix:abstract=foo,guid=0123")]
    public void Resolve_AnAddress_IsUsedAsItIs(string bus, string expected) => Assert.Equal(expected, BusAddresses.Resolve(bus));

    [Theory]
    [InlineData("sytem")]
    [InlineData("unix")]
    [InlineData("/run/dbus/system_bus_socket")]
    public void Resolve_NeitherABusNorAnAddress_NamesTheValue(string bus)
    {
        var e = Assert.Throws<ArgumentException>(() => BusAddresses.Resolve(bus));
        Assert.Contains($"'{bus}'", e.Message);
    }

    [Fact]
    public void Resolve_System_IsTheSystemBusSocketUnlessTheEnvironmentSaysOtherwise()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS");
        Assert.Equal(string.IsNullOrEmpty(fromEnvironment) ? "unix:path=/var/run/dbus/system_bus_socket" : fromEnvironment,
            BusAddresses.Resolve("system"));
    }
}
