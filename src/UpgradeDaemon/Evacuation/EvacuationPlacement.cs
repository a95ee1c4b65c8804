namespace LocalMigrate.UpgradeDaemon.Evacuation;

/// <summary>Where one guest goes, or why it cannot go anywhere.</summary>
/// <param name="Destination">The chosen destination; null when every one refused (the guest stays running here).</param>
/// <param name="Refusals">"destination: reason" for each destination tried before the chosen one (all of them when none took it).</param>
public sealed record EvacuationPlacement(string Guest, long Bytes, string? Destination, IReadOnlyList<string> Refusals)
{
    public bool IsPlaced => Destination is not null;
}
