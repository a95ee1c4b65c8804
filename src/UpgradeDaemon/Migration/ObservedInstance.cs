using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// One instance of a domain as recovery sees it: QEMU's own answers, and the role its instance.json claims (which
/// only breaks ties when no journal speaks for the domain: a file never promotes its instance on its own).
/// </summary>
/// <param name="RunState">Meaningful only when <see cref="Liveness"/> is Answering.</param>
/// <param name="Migration">Meaningful only when <see cref="Liveness"/> is Answering.</param>
public sealed record ObservedInstance(string InstanceId, InstanceLiveness Liveness, QemuRunState RunState,
    QemuMigrationStatus Migration, InstanceRole RoleOnDisk)
{
    public bool IsAnswering => Liveness == InstanceLiveness.Answering;

    /// <summary>
    /// Holds a copy of the guest: anything but a target that never finished loading. QEMU leaves inmigrate only once
    /// the whole stream is loaded (a failed load ends the process), and a completed incoming counts even before that.
    /// </summary>
    public bool HoldsGuest => IsAnswering && (RunState != QemuRunState.Inmigrate || Migration == QemuMigrationStatus.Completed);
}
