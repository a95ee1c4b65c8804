namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// Gives memory back between bursts of work. The daemon's live heap is a few MB, but a migration allocates in bursts
/// (QMP and D-Bus messages, journal writes) and the GC keeps the regions it grew into: measured with 4 VMs, resident
/// memory rose in ~3.5 MB steps from 73 MB at migration 100 to 82.5 MB at migration 225 while the live heap stayed
/// flat. One aggressive, compacting collection once no migration runs (a few ms on this heap, never inside a guest's
/// pause) decommits them.
/// </summary>
internal static class ManagedHeap
{
    public static void ReleaseUnused() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}
