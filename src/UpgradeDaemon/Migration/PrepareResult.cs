namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="Uri">Where the source sends the stream, in QMP migrate's syntax (unix:PATH for a local target).</param>
public sealed record PrepareResult(string InstanceId, int Pid, string Uri, string QemuVersion)
{
    /// <summary>What the target QEMU holds after Prepare set its migration capabilities and parameters (read back).</summary>
    public MigrationSideSettings TargetSettings { get; init; } = MigrationSideSettings.None;
}
