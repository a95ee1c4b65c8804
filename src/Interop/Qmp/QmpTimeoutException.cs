namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// QEMU sent no reply to a command within its deadline: it is stuck, stopped (SIGSTOP) or overloaded. The
/// connection stays open; a late reply is dropped. Derives from <see cref="TimeoutException"/> so generic
/// handlers still recognise it.
/// </summary>
public sealed class QmpTimeoutException(string command, TimeSpan timeout)
    : TimeoutException($"QMP command '{command}' got no reply from QEMU within {timeout.TotalSeconds:0.###} s (QEMU stuck or stopped?)")
{
    public string Command { get; } = command;

    public TimeSpan Timeout { get; } = timeout;
}
