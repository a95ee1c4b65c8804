using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>The plan of an evacuation and, unless it was a dry run, one job per guest (failed at once for a guest no destination took).</summary>
public sealed record EvacuationResult(IReadOnlyList<EvacuationPlacement> Plan, IReadOnlyList<MigrationJob> Jobs);
