namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>Whether a running instance lags behind what is installed, and why (every reason found).</summary>
public sealed record StaleReport(IReadOnlyList<string> Reasons)
{
    public static readonly StaleReport Fresh = new([]);

    public bool IsStale => Reasons.Count > 0;
}
