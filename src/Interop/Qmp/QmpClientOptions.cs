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

    /// <summary>
    /// Deadline of a command that names none itself: every command the daemon sends is answered by QEMU
    /// at once (even <c>migrate</c> only starts the job), so a call still unanswered after this long means
    /// QEMU is stuck or stopped, and the caller gets <see cref="QmpTimeoutException"/> instead of a hang.
    /// </summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of the command deadlines.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
