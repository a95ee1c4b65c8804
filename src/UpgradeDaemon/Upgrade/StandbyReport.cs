namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <param name="Ready">Domains a standby target now waits for.</param>
/// <param name="Problems">"name: reason" for each domain asked for that has none.</param>
public sealed record StandbyReport(IReadOnlyList<string> Ready, IReadOnlyList<string> Problems);
