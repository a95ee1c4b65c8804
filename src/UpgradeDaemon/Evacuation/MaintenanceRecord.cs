namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>The maintenance flag as stored in <c>&lt;state-dir&gt;/maintenance.json</c>.</summary>
/// <param name="Reason">What turned it on: "maintenance on" or "evacuate".</param>
public sealed record MaintenanceRecord(bool Maintenance, DateTimeOffset Since, string Reason);
