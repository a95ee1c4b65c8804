using LocalMigrate.Interop.Systemd;
using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Logging;

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
public sealed partial class InstanceScopes(DaemonOptions options, ILogger<InstanceScopes> logger) : IAsyncDisposable
{
    public const string Slice = "machine.slice";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private BusConnection? _bus;

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
            object?[] properties =
            [
                new object?[] { "Description", new BusVariant("s", $"LocalMigrate VM {domainName}, QEMU instance {instanceId}") },
                new object?[] { "PIDs", new BusVariant("au", new[] { (uint)pid }) },
                new object?[] { "Slice", new BusVariant("s", Slice) },
                new object?[] { "CollectMode", new BusVariant("s", "inactive-or-failed") },
            ];
            await bus.CallAsync("org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                "StartTransientUnit", "ssa(sv)a(sa(sv))", [unit, "fail", properties, Array.Empty<object>()],
                timeout: TimeSpan.FromSeconds(10), ct: cancellationToken).ConfigureAwait(false);
            LogScoped(domainName, pid, unit);
        }
        catch (Exception e) when (e is BusErrorException or TimeoutException or BusClosedException or IOException or InvalidOperationException)
        {
            LogNotScoped(domainName, pid, unit, e.Message);
        }
    }

    private async Task<BusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_bus is { Closed.IsCompleted: false })
                return _bus;
            var address = options.ScopeBus is null ? BusAddress.System : BusAddress.Parse(options.ScopeBus);
            return _bus = await BusConnection.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
            await _bus.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain {DomainName}: QEMU pid {Pid} runs in {Unit}")]
    private partial void LogScoped(string domainName, int pid, string unit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Domain {DomainName}: QEMU pid {Pid} not moved to {Unit} ({Reason}); it stays in its own session")]
    private partial void LogNotScoped(string domainName, int pid, string unit, string reason);
}
