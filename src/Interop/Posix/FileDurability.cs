namespace LocalMigrate.Interop.Posix;

/// <summary>What a replaced file must outlive (see <see cref="AtomicFile"/>).</summary>
public enum FileDurability
{
    /// <summary>
    /// The writing process may die at any moment; the host keeps running. Enough for state that means nothing after
    /// a reboot, such as records of running QEMU processes: a host crash takes every QEMU with it.
    /// </summary>
    SurvivesProcessCrash,

    /// <summary>Power loss or a kernel crash too: fsync of the file and of its directory, a disk flush each.</summary>
    SurvivesHostCrash,
}
