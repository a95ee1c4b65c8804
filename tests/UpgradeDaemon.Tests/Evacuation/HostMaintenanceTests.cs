using LocalMigrate.UpgradeDaemon.Evacuation;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Evacuation;

/// <summary>The maintenance flag's file: survives a restart (a new instance reads it), an unreadable file means on.</summary>
public sealed class HostMaintenanceTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("lm-maint-").FullName;

    private HostMaintenance Open() =>
        new(new DaemonOptions { StateDirectory = _state }, TimeProvider.System, NullLogger<HostMaintenance>.Instance);

    [Fact]
    public void Set_On_PersistsAcrossANewInstanceAndOffClearsIt()
    {
        var first = Open();
        Assert.False(first.IsOn);
        var changes = 0;
        first.Changed += () => changes++;
        first.Set(true, "evacuate");
        first.Set(true, "evacuate");
        Assert.Equal(1, changes);

        var reopened = Open();
        Assert.True(reopened.IsOn);
        Assert.Equal("evacuate", reopened.Current.Reason);
        Assert.Empty(Directory.EnumerateFiles(_state, "*.tmp"));

        reopened.Set(false, "maintenance off");
        Assert.False(Open().IsOn);
    }

    [Fact]
    public void ThrowIfOn_On_NamesTheRequestAndHowToLeave()
    {
        var maintenance = Open();
        maintenance.ThrowIfOn("start vm1");
        maintenance.Set(true, "maintenance on");

        var e = Assert.Throws<HostMaintenanceException>(() => maintenance.ThrowIfOn("start vm1"));
        Assert.Contains("start vm1", e.Message);
        Assert.Contains("localmigrate maintenance off", e.Message);
    }

    [Fact]
    public void Constructor_UnreadableFile_CountsAsOn()
    {
        File.WriteAllText(Path.Combine(_state, HostMaintenance.FileName), "{ not json");

        Assert.True(Open().IsOn);
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);
}
