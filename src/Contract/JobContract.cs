namespace LocalMigrate.Contract;

/// <summary><c>org.localmigrate1.Job</c>, one object per migration at <see cref="BusContract.JobPath"/>.</summary>
public static class JobContract
{
    public const string Name = BusContract.JobInterface;

    public static readonly BusMethod Cancel = new(Name, "Cancel", [], []);

    public static readonly BusProperty Id = new(Name, "Id", "s", PropertyEmits.Const);
    public static readonly BusProperty Domain = new(Name, "Domain", "s", PropertyEmits.Const);

    /// <summary>One of <see cref="BusContract.JobKinds"/>.</summary>
    public static readonly BusProperty Kind = new(Name, "Kind", "s", PropertyEmits.Const);

    /// <summary>One of <see cref="BusContract.JobPhases"/>.</summary>
    public static readonly BusProperty Phase = new(Name, "Phase", "s", PropertyEmits.Value);

    /// <summary>One of <see cref="BusContract.JobStates"/>.</summary>
    public static readonly BusProperty State = new(Name, "State", "s", PropertyEmits.Value);

    public static readonly BusProperty Progress = new(Name, "Progress", "d", PropertyEmits.Value);
    public static readonly BusProperty DataTotal = new(Name, "DataTotal", "t", PropertyEmits.Value);
    public static readonly BusProperty DataRemaining = new(Name, "DataRemaining", "t", PropertyEmits.Value);
    public static readonly BusProperty DowntimeMs = new(Name, "DowntimeMs", "t", PropertyEmits.Value);
    public static readonly BusProperty TotalMs = new(Name, "TotalMs", "t", PropertyEmits.Value);
    public static readonly BusProperty TransferredBytes = new(Name, "TransferredBytes", "t", PropertyEmits.Value);
    public static readonly BusProperty SourcePid = new(Name, "SourcePid", "u", PropertyEmits.Value);
    public static readonly BusProperty TargetPid = new(Name, "TargetPid", "u", PropertyEmits.Value);
    public static readonly BusProperty SourceVersion = new(Name, "SourceVersion", "s", PropertyEmits.Value);
    public static readonly BusProperty TargetVersion = new(Name, "TargetVersion", "s", PropertyEmits.Value);
    public static readonly BusProperty Error = new(Name, "Error", "s", PropertyEmits.Value);

    /// <summary>Bytes sent so far (query-migrate ram.transferred).</summary>
    public static readonly BusProperty DataTransferred = new(Name, "DataTransferred", "t", PropertyEmits.Value);

    /// <summary>Bytes per second over the last pass.</summary>
    public static readonly BusProperty TransferRate = new(Name, "TransferRate", "t", PropertyEmits.Value);

    /// <summary>Bytes per second the guest dirties.</summary>
    public static readonly BusProperty DirtyRate = new(Name, "DirtyRate", "t", PropertyEmits.Value);

    /// <summary>QEMU's dirty-sync-count: 1 during the first full copy. DataRemaining grows again between passes.</summary>
    public static readonly BusProperty Passes = new(Name, "Passes", "t", PropertyEmits.Value);

    public static readonly BusProperty ExpectedDowntimeMs = new(Name, "ExpectedDowntimeMs", "t", PropertyEmits.Value);

    /// <summary>Percent auto-converge throttles the guest's vCPUs.</summary>
    public static readonly BusProperty CpuThrottlePercent = new(Name, "CpuThrottlePercent", "u", PropertyEmits.Value);

    /// <summary>One of <see cref="BusContract.ConvergeActions"/>: what finished a migration that did not converge by itself.</summary>
    public static readonly BusProperty ConvergeAction = new(Name, "ConvergeAction", "s", PropertyEmits.Value);

    /// <summary>The migration capabilities the source QEMU has on, read back after the daemon set them.</summary>
    public static readonly BusProperty SourceCapabilities = new(Name, "SourceCapabilities", "as", PropertyEmits.Value);

    /// <summary>Every migration parameter the source QEMU holds, by QAPI name, read back after the daemon set them.</summary>
    public static readonly BusProperty SourceParameters = new(Name, "SourceParameters", "a{ss}", PropertyEmits.Value);

    public static readonly BusProperty TargetCapabilities = new(Name, "TargetCapabilities", "as", PropertyEmits.Value);
    public static readonly BusProperty TargetParameters = new(Name, "TargetParameters", "a{ss}", PropertyEmits.Value);

    /// <summary>Unix time in milliseconds.</summary>
    public static readonly BusProperty StartedAt = new(Name, "StartedAt", "t", PropertyEmits.Const);

    /// <summary>A remote job's destination URI ("" for a local one).</summary>
    public static readonly BusProperty Destination = new(Name, "Destination", "s", PropertyEmits.Const);

    /// <summary>The id of the job that retries this domain's move on the next host after this one failed before the switch
    /// (evacuate); "" when none. Set before State shows the failure.</summary>
    public static readonly BusProperty RetriedBy = new(Name, "RetriedBy", "s", PropertyEmits.Value);

    /// <summary>One of <see cref="BusContract.Transfers"/>: whether the guest ran while its RAM was copied.</summary>
    public static readonly BusProperty Transfer = new(Name, "Transfer", "s", PropertyEmits.Value);

    public static readonly BusInterfaceContract Interface = new(Name,
        [Cancel],
        [Id, Domain, Kind, Phase, State, Progress, DataTotal, DataRemaining, DowntimeMs, TotalMs, TransferredBytes, SourcePid, TargetPid,
            SourceVersion, TargetVersion, Error, StartedAt, DataTransferred, TransferRate, DirtyRate, Passes, ExpectedDowntimeMs,
            CpuThrottlePercent, ConvergeAction, SourceCapabilities, SourceParameters, TargetCapabilities, TargetParameters, Destination, RetriedBy, Transfer]);
}
