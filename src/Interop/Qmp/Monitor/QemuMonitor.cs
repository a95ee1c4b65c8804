namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// The QEMU monitor as typed calls, after libvirt's qemu_monitor.h: each QMP command the daemon sends is one
/// method here, each status an enum, and no command string exists outside this class. <see cref="QmpClient"/>
/// stays the transport underneath (connection, ids, events).
/// <para>
/// Every call has a deadline: the client's <see cref="QmpClientOptions.CommandTimeout"/> unless the call names
/// its own <c>timeout</c>. A QEMU that does not answer in time yields <see cref="QmpTimeoutException"/> naming
/// the command, never a hang. Adding a command is one method: name, arguments record, result record.
/// </para>
/// Errors: <see cref="QmpExecuteException"/> (QEMU refused), <see cref="QmpDisconnectedException"/>,
/// <see cref="QmpTimeoutException"/>, <see cref="OperationCanceledException"/> (the caller's token).
/// </summary>
public sealed partial class QemuMonitor(QmpClient client)
{
    /// <summary>The transport, for events and the greeting.</summary>
    public QmpClient Client { get; } = client;

    /// <summary>Subscribes to events (see <see cref="QemuEvents"/>): before sending the command that causes them.</summary>
    public QmpEventListener Listen(params string[] eventNames) => Client.Listen(eventNames);

    private Task ExecuteAsync(string command, object? arguments, TimeSpan? timeout, CancellationToken cancellationToken) =>
        timeout is { } own
            ? Client.ExecuteAsync(command, arguments, own, cancellationToken)
            : Client.ExecuteAsync(command, arguments, cancellationToken);

    private Task<TResult> ExecuteAsync<TResult>(string command, object? arguments, TimeSpan? timeout, CancellationToken cancellationToken) =>
        timeout is { } own
            ? Client.ExecuteAsync<TResult>(command, arguments, own, cancellationToken)
            : Client.ExecuteAsync<TResult>(command, arguments, cancellationToken);
}
