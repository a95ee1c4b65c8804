namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>Values of the job's ConvergeAction: what finished (or ended) a migration that did not converge by itself.</summary>
public static class MigrationConvergeActions
{
    public const string None = "";

    /// <summary>The converge policy cancelled it; the guest runs on at the source.</summary>
    public const string Cancel = "cancel";

    /// <summary>The converge policy switched it to postcopy.</summary>
    public const string Postcopy = "postcopy";

    /// <summary>The converge policy let QEMU stop the guest to copy the rest.</summary>
    public const string Pause = "pause";

    /// <summary>An operator switched it to postcopy (StartPostcopy).</summary>
    public const string ManualPostcopy = "manual-postcopy";
}
