namespace LocalMigrate.UpgradeDaemon.Migration;

public enum MigrationJobState
{
    Running,
    Completed,
    Failed,
    Cancelled,
}
