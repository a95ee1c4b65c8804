using LocalMigrate.Contract.Client;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Puts each QEMU instance into a transient scope unit of its own (org.freedesktop.systemd1.Manager.StartTransientUnit,
/// see systemd.scope(5)), named with the instance id so source and target of a migration never clash:
/// <c>localmigrate-&lt;name&gt;-&lt;instance&gt;.scope</c> in machine.slice. The VM then leaves the service's cgroup:
/// stopping, restarting or upgrading localmigrated.service cannot touch it, whatever its KillMode.
/// Active when the daemon runs as a systemd service (INVOCATION_ID set) or when <c>scopeBus</c> names a bus;
/// without systemd (tests, a terminal), session separation alone keeps QEMU alive. A failure is logged, never fatal:
/// the VM still runs in its own session.
/// </summary>
public sealed partial class InstanceScopes(DaemonOptions options, ILogger<InstanceScopes> logger) : IDisposable
{
    public const string Slice = "machine.slice";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DBusConnection? _bus;
    private Task? _disconnected;

    public bool Enabled => options.ScopeBus switch
    {
        "off" => false,
        null => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("INVOCATION_ID")),
        _ => true,
    };

    public static string UnitName(string domainName, string instanceId) => $"localmigrate-{domainName}-{instanceId}.scope";

    public async Task MoveAsync(string domainName, string instanceId, int pid, CancellationToken cancellationToken)
    {
        if (!Enabled)
            return;
        var unit = UnitName(domainName, instanceId);
        try
        {
            var bus = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            var message = StartTransientUnit(bus, unit, $"LocalMigrate VM {domainName}, QEMU instance {instanceId}", pid);
            await bus.CallMethodAsync(message).WaitAsync(CallTimeout, cancellationToken).ConfigureAwait(false);
            LogScoped(domainName, pid, unit);
        }
        catch (Exception e) when (e is DBusExceptionBase or TimeoutException or IOException or InvalidOperationException or ArgumentException)
        {
            LogNotScoped(domainName, pid, unit, e.Message);
        }
    }

    /// <summary>org.freedesktop.systemd1.Manager.StartTransientUnit(ssa(sv)a(sa(sv))), mode "fail", no auxiliary units.</summary>
    private static MessageBuffer StartTransientUnit(DBusConnection bus, string unit, string description, int pid) =>
        BusMessages.MethodCall(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
            "StartTransientUnit", "ssa(sv)a(sa(sv))", (ref MessageWriter writer) =>
            {
                writer.WriteString(unit);
                writer.WriteString("fail");
                var properties = writer.WriteArrayStart(DBusType.Struct);
                foreach (var (name, value) in new[]
                         {
                             ("Description", VariantValue.String(description)),
                             ("PIDs", VariantValue.Array(new[] { (uint)pid })),
                             ("Slice", VariantValue.String(Slice)),
                             ("CollectMode", VariantValue.String("inactive-or-failed")),
                         })
                {
                    writer.WriteStructureStart();
                    writer.WriteString(name);
                    writer.WriteVariant(value);
                }
                writer.WriteArrayEnd(properties);
                writer.WriteArrayEnd(writer.WriteArrayStart(DBusType.Struct));
            });

    private async Task<DBusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_bus is not null && _disconnected is { IsCompleted: false })
                return _bus;
            _bus?.Dispose();
            var bus = new DBusConnection(new DBusConnectionOptions(BusAddresses.Resolve(options.ScopeBus ?? "system")) { AutoConnect = false });
            await bus.ConnectAsync().AsTask().WaitAsync(CallTimeout, cancellationToken).ConfigureAwait(false);
            _disconnected = bus.DisconnectedAsync();
            return _bus = bus;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _bus?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName}: QEMU pid {Pid} runs in {Unit}")]
    private partial void LogScoped(string domainName, int pid, string unit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: QEMU pid {Pid} not moved to {Unit} ({Reason}); it stays in its own session")]
    private partial void LogNotScoped(string domainName, int pid, string unit, string reason);
}
