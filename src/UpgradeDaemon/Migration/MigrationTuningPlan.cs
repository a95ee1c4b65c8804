namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>The result of <see cref="MigrationTuning.Plan"/>: a tuning, or every reason there is none.</summary>
public sealed record MigrationTuningPlan(MigrationTuning? Tuning, IReadOnlyList<string> Errors);
