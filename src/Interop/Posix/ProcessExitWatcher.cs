using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Learns when a process exits without being its parent, through a pidfd (pidfd_open(2)): works for a QEMU
/// the daemon adopted after a restart as well as for one it started. Reaps the child when it is ours.
/// </summary>
public sealed class ProcessExitWatcher : IDisposable
{
    private readonly int _pidfd;
    private readonly Task _exited;
    private int _disposed;

    private ProcessExitWatcher(int pid, int pidfd)
    {
        Pid = pid;
        _pidfd = pidfd;
        _exited = Task.Factory.StartNew(WaitLoop, CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int Pid { get; }

    /// <summary>Completes when the process has exited (or the watcher was disposed).</summary>
    public Task Exited => _exited;

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

    public bool HasExited => _exited.IsCompleted;

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _exited.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private unsafe void WaitLoop()
    {
        var pfd = new LibC.PollFd { Fd = _pidfd, Events = LibC.POLLIN };
        while (Volatile.Read(ref _disposed) == 0)
        {
            // Wake up now and then so Dispose can end the loop without closing an fd poll still uses.
            var rc = LibC.poll(&pfd, 1, 250);
            if (rc > 0)
                break;
            if (rc < 0 && Marshal.GetLastPInvokeError() != LibC.EINTR)
                break;
        }
        // Reap it if it is our child (WNOHANG=1); ECHILD for an adopted process is expected.
        int status;
        LibC.waitpid(Pid, &status, 1);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _exited.Wait(TimeSpan.FromSeconds(1));
        LibC.close(_pidfd);
    }
}
