namespace LocalMigrate.Interop.Qmp;

public sealed record QmpClientOptions
{
    /// <summary>
    /// Longest line accepted from the peer. A longer one is a protocol error that closes the
    /// connection: the stream cannot be resynchronised safely. query-machines, the largest reply
    /// we use, is about 40 KB, so 16 MiB leaves room without letting a broken peer exhaust memory.
    /// </summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// How long to keep retrying while the socket is missing or refuses connections. QEMU creates
    /// its socket some milliseconds after spawn; zero means one attempt.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>Time allowed for the greeting and the qmp_capabilities reply together.</summary>
    public TimeSpan NegotiationTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
