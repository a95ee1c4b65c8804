using System.Text.Json;
using Tmds.DBus.Protocol;
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
    private sealed record TransientUnitCall(string Name, string Mode, Dictionary<string, VariantValue> Properties);

    /// <summary>org.freedesktop.systemd1.Manager.StartTransientUnit, recorded and answered with a job path.</summary>
    private sealed class ScriptedSystemd(List<TransientUnitCall> calls) : IPathMethodHandler
    {
        public string Path => "/org/freedesktop/systemd1";

        public bool HandlesChildPaths => false;

        public ValueTask HandleMethodAsync(MethodContext context)
        {
            var request = context.Request;
            if (request.MemberAsString != "StartTransientUnit" || request.SignatureAsString != "ssa(sv)a(sa(sv))")
                return ValueTask.CompletedTask; // disposed unanswered: UnknownMethod
            var reader = request.GetBodyReader();
            var name = reader.ReadString();
            var mode = reader.ReadString();
            var properties = new Dictionary<string, VariantValue>();
            var end = reader.ReadArrayStart(DBusType.Struct);
            while (reader.HasNext(end))
            {
                reader.AlignStruct();
                properties[reader.ReadString()] = reader.ReadVariantValue();
            }
            int count;
            lock (calls)
            {
                calls.Add(new TransientUnitCall(name, mode, properties));
                count = calls.Count;
            }
            var writer = context.CreateReplyWriter("o");
            try
            {
                writer.WriteObjectPath($"/org/freedesktop/systemd1/job/{count}");
                context.Reply(writer.CreateMessage());
            }
            finally
            {
                writer.Dispose();
            }
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task StartAndMigrate_EachQemuInstance_IsPutInItsOwnScopeUnitNamedWithItsInstanceId()
    {
        await using var daemon = new DaemonProcess(output);
        var calls = new List<TransientUnitCall>();
        using var systemd = new DBusConnection(daemon.Bus.Address);
        await systemd.ConnectAsync();
        systemd.AddMethodHandler(new ScriptedSystemd(calls));
        await systemd.RequestNameAsync("org.freedesktop.systemd1", RequestNameOptions.None);
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
            Assert.All(calls, c => Assert.Equal("machine.slice", c.Properties["Slice"].GetString()));
            Assert.Equal(new[] { (uint)migrated.GetProperty("sourcePid").GetInt32() }, calls[0].Properties["PIDs"].GetArray<uint>());
            Assert.Equal(new[] { (uint)migrated.GetProperty("targetPid").GetInt32() }, calls[1].Properties["PIDs"].GetArray<uint>());
            Assert.Contains("scoped", calls[1].Properties["Description"].GetString());
        }
    }
}
