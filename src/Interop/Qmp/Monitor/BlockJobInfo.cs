namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/block-core.json <c>BlockJobInfo</c>, the members the daemon reads.</summary>
public sealed record BlockJobInfo
{
    /// <summary>The job's id (QEMU names it "device" for history's sake).</summary>
    public string Device { get; init; } = "";

    public string Type { get; init; } = "";

    /// <summary>Bytes the job expects to process; grows while the guest writes.</summary>
    public long Len { get; init; }

    /// <summary>Bytes processed.</summary>
    public long Offset { get; init; }

    public bool Ready { get; init; }

    /// <summary>A qapi JobStatus: created, running, ready, concluded, ...</summary>
    public string Status { get; init; } = "";

    /// <summary>Set once a concluded job failed.</summary>
    public string? Error { get; init; }
}
