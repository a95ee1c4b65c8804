using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Learns when a process exits without being its parent, through a pidfd (pidfd_open(2)): works for a QEMU
/// the daemon adopted after a restart as well as for one it started. Reaps the child when it is ours. All watchers
/// share one polling thread (<see cref="PidfdPoller"/>).
/// </summary>
public sealed class ProcessExitWatcher : IDisposable
{
    private readonly PidfdWatch _watch;
    private int _disposed;

    private ProcessExitWatcher(int pid, int pidfd)
    {
        Pid = pid;
        _watch = PidfdPoller.Instance.Add(pid, pidfd);
    }

    public int Pid { get; }

    /// <summary>Completes when the process has exited (or the watcher was disposed).</summary>
    public Task Exited => _watch.Exited.Task;

    /// <returns>A watcher, or null when the process is already gone.</returns>
    public static ProcessExitWatcher? TryOpen(int pid)
    {
        var fd = (int)LibC.syscall(LibC.SYS_pidfd_open, pid, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.ESRCH)
                return null;
            throw new IOException($"pidfd_open({pid}) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return new ProcessExitWatcher(pid, fd);
    }

    public bool HasExited => _watch.Exited.Task.IsCompleted;

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _watch.Exited.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        PidfdPoller.Instance.Release(_watch);
    }
}
