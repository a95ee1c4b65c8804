namespace LocalMigrate.Interop.Qmp.Monitor;

// Run state, power and process: qapi/run-state.json, qapi/misc.json, qapi/control.json, qapi/machine.json.
public sealed partial class QemuMonitor
{
    /// <summary><c>query-status</c>: the run state alone.</summary>
    public async Task<RunState> QueryStatusAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await QueryStatusInfoAsync(timeout, cancellationToken).ConfigureAwait(false)).Status;

    /// <summary><c>query-status</c>.</summary>
    public Task<StatusInfo> QueryStatusInfoAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync<StatusInfo>("query-status", null, timeout, cancellationToken);

    /// <summary><c>cont</c>: resume the guest's vCPUs.</summary>
    public Task ContAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("cont", null, timeout, cancellationToken);

    /// <summary><c>stop</c>: pause the guest's vCPUs (QEMU keeps running).</summary>
    public Task StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("stop", null, timeout, cancellationToken);

    /// <summary>
    /// <c>quit</c>: QEMU exits. It may close the socket before its reply arrives, which surfaces as
    /// <see cref="QmpDisconnectedException"/>: the caller waits for the process to end either way.
    /// </summary>
    public Task QuitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("quit", null, timeout, cancellationToken);

    /// <summary><c>system_powerdown</c>: an ACPI power button press; the guest decides whether to power off.</summary>
    public Task SystemPowerdownAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("system_powerdown", null, timeout, cancellationToken);

    /// <summary><c>query-machines</c>: every machine type this binary can build.</summary>
    public async Task<IReadOnlyList<MachineInfo>> QueryMachinesAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await ExecuteAsync<List<MachineInfo>>("query-machines", null, timeout, cancellationToken).ConfigureAwait(false);

    /// <summary><c>query-version</c>.</summary>
    public Task<VersionInfo> QueryVersionAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync<VersionInfo>("query-version", null, timeout, cancellationToken);
}
