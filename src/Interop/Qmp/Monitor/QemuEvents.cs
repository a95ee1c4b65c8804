using System.Text.Json;

namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>The QMP events the daemon follows (names as QEMU spells them) and typed readers of their data.</summary>
public static class QemuEvents
{
    /// <summary>qapi/migration.json MIGRATION: <c>{"status": MigrationStatus}</c>, on every status change.</summary>
    public const string Migration = "MIGRATION";

    /// <summary>qapi/run-state.json SHUTDOWN: <c>{"guest": bool, "reason": ...}</c>, before QEMU exits.</summary>
    public const string Shutdown = "SHUTDOWN";

    public const string Stop = "STOP";

    public const string Resume = "RESUME";

    /// <summary>qapi/job.json JOB_STATUS_CHANGE: <c>{"id": str, "status": JobStatus}</c>, for every block job.</summary>
    public const string JobStatusChange = "JOB_STATUS_CHANGE";

    /// <summary>The job id of a JOB_STATUS_CHANGE event.</summary>
    public static string? JobIdOf(QmpEvent jobEvent) =>
        jobEvent.Data.TryGetProperty("id", out JsonElement id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    /// <summary>The status of a JOB_STATUS_CHANGE event ("ready", "concluded", ...).</summary>
    public static string? JobStatusOf(QmpEvent jobEvent) =>
        jobEvent.Data.TryGetProperty("status", out JsonElement status) && status.ValueKind == JsonValueKind.String ? status.GetString() : null;

    /// <summary>The status of a MIGRATION event; Unknown when absent or new.</summary>
    public static MigrationStatus MigrationStatusOf(QmpEvent migrationEvent) =>
        migrationEvent.Data.TryGetProperty("status", out JsonElement status) && status.ValueKind == JsonValueKind.String
            ? QapiEnum.Parse<MigrationStatus>(status.GetString())
            : MigrationStatus.Unknown;

    /// <summary>True when a SHUTDOWN event says the guest asked for it (ACPI power-off from inside).</summary>
    public static bool IsGuestShutdown(QmpEvent shutdownEvent) =>
        shutdownEvent.Data.TryGetProperty("guest", out JsonElement guest) && guest.ValueKind == JsonValueKind.True;
}
