namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary><c>query-status</c> (qapi/run-state.json <c>StatusInfo</c>).</summary>
public sealed record StatusInfo
{
    /// <summary>True when the guest's vCPUs run.</summary>
    public bool Running { get; init; }

    public RunState Status { get; init; }
}
