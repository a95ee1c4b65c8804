namespace LocalMigrate.Interop.Qmp.Monitor;

// Migration: qapi/migration.json. Progress and the end come as MIGRATION events (QemuEvents.Migration).
public sealed partial class QemuMonitor
{
    /// <summary><c>migrate-set-capabilities</c>: applies to the next migration; refused while one runs.</summary>
    public Task MigrateSetCapabilitiesAsync(IReadOnlyList<MigrationCapabilityStatus> capabilities, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate-set-capabilities", new { Capabilities = capabilities }, timeout, cancellationToken);

    /// <summary><c>migrate-set-parameters</c>: only the members set in <paramref name="parameters"/> are sent.</summary>
    public Task MigrateSetParametersAsync(MigrationParameters parameters, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate-set-parameters", parameters, timeout, cancellationToken);

    /// <summary><c>migrate</c>: starts sending the guest to <paramref name="uri"/> (e.g. "unix:/path"); returns at once.</summary>
    public Task MigrateAsync(string uri, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate", new { Uri = uri }, timeout, cancellationToken);

    /// <summary><c>migrate-incoming</c>: a QEMU started with <c>-incoming defer</c> starts listening on <paramref name="uri"/>.</summary>
    public Task MigrateIncomingAsync(string uri, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate-incoming", new { Uri = uri }, timeout, cancellationToken);

    /// <summary><c>migrate_cancel</c>: asks QEMU to stop the outgoing migration; the MIGRATION event says when it did.</summary>
    public Task MigrateCancelAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate_cancel", null, timeout, cancellationToken);

    /// <summary><c>migrate-continue</c>: lets a migration held at <see cref="MigrationStatus.PreSwitchover"/> switch over.</summary>
    public Task MigrateContinueAsync(MigrationStatus state = MigrationStatus.PreSwitchover, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate-continue", new { State = state }, timeout, cancellationToken);

    /// <summary><c>query-migrate</c>.</summary>
    public Task<MigrationInfo> QueryMigrateAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync<MigrationInfo>("query-migrate", null, timeout, cancellationToken);

    /// <summary><c>query-migrate-capabilities</c>: every capability this QEMU has, with its state.</summary>
    public async Task<IReadOnlyList<MigrationCapabilityStatus>> QueryMigrateCapabilitiesAsync(TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        await ExecuteAsync<List<MigrationCapabilityStatus>>("query-migrate-capabilities", null, timeout, cancellationToken)
            .ConfigureAwait(false);

    /// <summary><c>query-migrate-parameters</c>: what QEMU actually holds (the read-back after a set).</summary>
    public Task<MigrationParameters> QueryMigrateParametersAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync<MigrationParameters>("query-migrate-parameters", null, timeout, cancellationToken);

    /// <summary><c>migrate-start-postcopy</c>: a running precopy switches to postcopy (needs postcopy-ram on both sides).</summary>
    public Task MigrateStartPostcopyAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("migrate-start-postcopy", null, timeout, cancellationToken);
}
