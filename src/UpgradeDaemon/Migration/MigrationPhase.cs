namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// libvirt's migration protocol v3 (src/qemu/qemu_migration.c), named by the side that acts:
/// <code>
///   source                       destination
///   Begin    ─ validate, lock ─►
///                                Prepare  spawn with -incoming defer, migrate-incoming
///   Perform  migrate, follow ──►
///                                Finish   guest running on the target
///   Confirm  commit: promote target, quit source  (or, on failure before here: kill target, resume source)
/// </code>
/// Phases only move forward; each is journaled before it acts.
/// </summary>
public enum MigrationPhase
{
    Begin = 1,
    Prepare = 2,
    Perform = 3,
    Finish = 4,
    Confirm = 5,
}
