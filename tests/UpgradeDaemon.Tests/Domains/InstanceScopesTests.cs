using System.Text.Json;
using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

/// <summary>
/// Each QEMU instance goes into a scope unit of its own. No systemd runs as PID 1 on these machines, so
/// org.freedesktop.systemd1 is played by a scripted peer on the test bus; the daemon, its call and its
/// arguments are the real ones.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class InstanceScopesTests(ITestOutputHelper output)
{
    private sealed record TransientUnitCall(string Name, string Mode, Dictionary<string, object> Properties);

    [Fact]
    public async Task StartAndMigrate_EachQemuInstance_IsPutInItsOwnScopeUnitNamedWithItsInstanceId()
    {
        await using var daemon = new DaemonProcess(output);
        var calls = new List<TransientUnitCall>();
        await using var systemd = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Bus.Address));
        await systemd.AddObjectAsync("/org/freedesktop/systemd1", new BusInterfaceBuilder("org.freedesktop.systemd1.Manager")
            .Method("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", call =>
            {
                var properties = ((object[])call.Args[2]).Cast<object[]>().ToDictionary(p => (string)p[0], p => p[1]);
                lock (calls)
                    calls.Add(new TransientUnitCall((string)call.Args[0], (string)call.Args[1], properties));
                return Task.FromResult<object?[]>([new BusObjectPath($"/org/freedesktop/systemd1/job/{calls.Count}")]);
            })
            .Build());
        await systemd.RequestNameAsync("org.freedesktop.systemd1");
        await File.WriteAllTextAsync(daemon.ConfigFile, $$"""
            { "defaultAccel": "{{TestGuest.Accel}}", "sharedMemoryDirectory": "{{daemon.SharedMemoryDirectory}}", "scopeBus": "{{daemon.Bus.Address}}" }
            """);
        await daemon.StartAsync();

        await daemon.BootGuestAsync("scoped");
        var first = JsonDocument.Parse((await daemon.CliAsync("status", "scoped", "--json")).Stdout).RootElement;
        var migrated = JsonDocument.Parse((await daemon.CliAsync("migrate", "scoped", "--json")).Stdout).RootElement;
        var second = JsonDocument.Parse((await daemon.CliAsync("status", "scoped", "--json")).Stdout).RootElement;

        lock (calls)
        {
            Assert.Equal(2, calls.Count);
            Assert.Equal($"localmigrate-scoped-{first.GetProperty("instanceId").GetString()}.scope", calls[0].Name);
            Assert.Equal($"localmigrate-scoped-{second.GetProperty("instanceId").GetString()}.scope", calls[1].Name);
            Assert.All(calls, c => Assert.Equal("fail", c.Mode));
            Assert.All(calls, c => Assert.Equal("machine.slice", c.Properties["Slice"]));
            Assert.Equal(new[] { (uint)migrated.GetProperty("sourcePid").GetInt32() }, calls[0].Properties["PIDs"]);
            Assert.Equal(new[] { (uint)migrated.GetProperty("targetPid").GetInt32() }, calls[1].Properties["PIDs"]);
            Assert.Contains("scoped", (string)calls[1].Properties["Description"]);
        }
    }
}
