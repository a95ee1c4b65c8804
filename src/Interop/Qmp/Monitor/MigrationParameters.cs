using System.Globalization;
using System.Text.Json;

namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// qapi/migration.json <c>MigrateSetParameters</c> (arguments of <c>migrate-set-parameters</c>) and
/// <c>MigrationParameters</c> (the answer of <c>query-migrate-parameters</c>). Only the members that are set are
/// sent; QEMU keeps its value for the rest. Add a member here to send or read a new one.
/// </summary>
public sealed record MigrationParameters
{
    /// <summary>Bytes per second. QEMU's default is 128 MiB/s, too low for a busy guest to converge.</summary>
    public long? MaxBandwidth { get; init; }

    /// <summary>Milliseconds the guest may be paused at switch-over. QEMU's default is 300.</summary>
    public long? DowntimeLimit { get; init; }

    /// <summary>Parallel connections of the multifd capability (both sides); QEMU's default is 2.</summary>
    public int? MultifdChannels { get; init; }

    /// <summary>Both sides must agree.</summary>
    public MultifdCompression? MultifdCompression { get; init; }

    /// <summary>0 to 9. QEMU 7.2 to 8.2 accept it here and ignore it (fixed in 9.0); only <c>-global migration.multifd-zlib-level</c> works.</summary>
    public int? MultifdZlibLevel { get; init; }

    /// <summary>0 to 20. Same 7.2 defect as <see cref="MultifdZlibLevel"/>.</summary>
    public int? MultifdZstdLevel { get; init; }

    /// <summary>Bytes of the xbzrle cache (source side).</summary>
    public long? XbzrleCacheSize { get; init; }

    /// <summary>Bytes per second once in postcopy; 0 means unlimited.</summary>
    public long? MaxPostcopyBandwidth { get; init; }

    /// <summary>auto-converge: the first throttle step, percent.</summary>
    public int? CpuThrottleInitial { get; init; }

    /// <summary>auto-converge: the increase per pass, percent.</summary>
    public int? CpuThrottleIncrement { get; init; }

    /// <summary>auto-converge: the highest throttle, percent.</summary>
    public int? MaxCpuThrottle { get; init; }

    /// <summary>Id of a <c>tls-creds-*</c> object; empty turns TLS off.</summary>
    public string? TlsCreds { get; init; }

    public string? TlsHostname { get; init; }

    /// <summary>Id of an <c>authz-*</c> object checking the client's certificate DN.</summary>
    public string? TlsAuthz { get; init; }

    /// <summary>The members that are set, by their QAPI names, as text: what a read-back shows an operator.</summary>
    public IReadOnlyDictionary<string, string> ToQapiMembers()
    {
        var members = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in JsonSerializer.SerializeToElement(this, QmpJson.Options).EnumerateObject())
        {
            members[member.Name] = member.Value.ValueKind switch
            {
                JsonValueKind.String => member.Value.GetString()!,
                JsonValueKind.Number => member.Value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => member.Value.GetRawText(),
            };
        }
        return members;
    }
}
