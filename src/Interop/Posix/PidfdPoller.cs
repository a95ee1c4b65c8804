using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// One thread that waits on every watched pidfd at once (poll(2) on all of them plus an eventfd to wake it when the
/// set changes), instead of a thread per process: with 16 VMs that was 16 threads, each with its stack, its malloc
/// arena and four wake-ups a second. It owns the pidfds it is given and closes each once it is done with it, so no fd
/// is ever closed while poll still waits on it.
/// </summary>
internal sealed class PidfdPoller
{
    private static readonly Lazy<PidfdPoller> Shared = new(() => new PidfdPoller());

    private readonly object _gate = new();
    private readonly Dictionary<int, PidfdWatch> _watches = new();
    private readonly List<PidfdWatch> _released = new();
    private readonly int _wakeFd;

    private PidfdPoller()
    {
        _wakeFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (_wakeFd < 0)
            throw new IOException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        new Thread(PollLoop) { IsBackground = true, Name = "pidfd poller" }.Start();
    }

    public static PidfdPoller Instance => Shared.Value;

    /// <summary>Takes ownership of <paramref name="pidfd"/>; the watch's task completes when the process exits (it is
    /// then reaped if it is our child) or when the watch is released.</summary>
    public PidfdWatch Add(int pid, int pidfd)
    {
        var watch = new PidfdWatch(pid, pidfd, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
            _watches.Add(pidfd, watch);
        Wake();
        return watch;
    }

    /// <summary>Stops watching: the poll thread closes the pidfd and completes the watch's task. By watch, not by fd
    /// number: once a pidfd is closed its number may already belong to another process's watch.</summary>
    public void Release(PidfdWatch watch)
    {
        lock (_gate)
            _released.Add(watch);
        Wake();
    }

    private unsafe void Wake()
    {
        ulong one = 1;
        LibC.write(_wakeFd, &one, sizeof(ulong));
    }

    private unsafe void PollLoop()
    {
        var fds = new LibC.PollFd[16];
        var owners = new PidfdWatch?[16];
        while (true)
        {
            int count;
            lock (_gate)
            {
                foreach (var released in _released)
                {
                    if (_watches.TryGetValue(released.Pidfd, out var current) && ReferenceEquals(current, released))
                    {
                        _watches.Remove(released.Pidfd);
                        LibC.close(released.Pidfd);
                    }
                    released.Exited.TrySetResult();
                }
                _released.Clear();
                count = _watches.Count + 1;
                if (fds.Length < count)
                {
                    fds = new LibC.PollFd[count * 2];
                    owners = new PidfdWatch?[count * 2];
                }
                fds[0] = new LibC.PollFd { Fd = _wakeFd, Events = LibC.POLLIN };
                var i = 1;
                foreach (var watch in _watches.Values)
                {
                    fds[i] = new LibC.PollFd { Fd = watch.Pidfd, Events = LibC.POLLIN };
                    owners[i++] = watch;
                }
            }

            int rc;
            fixed (LibC.PollFd* p = fds)
                rc = LibC.poll(p, (ulong)count, -1);
            if (rc < 0)
            {
                if (Marshal.GetLastPInvokeError() == LibC.EINTR)
                    continue;
                // Not expected with valid fds; back off rather than spin, and retry with the set rebuilt.
                Thread.Sleep(100);
                continue;
            }
            if (fds[0].Revents != 0)
            {
                ulong drained;
                LibC.read(_wakeFd, &drained, sizeof(ulong));
            }
            for (var i = 1; i < count; i++)
            {
                if (fds[i].Revents == 0)
                    continue;
                var watch = owners[i]!;
                // Reap it if it is our child (WNOHANG); ECHILD for an adopted process is expected.
                int status;
                LibC.waitpid(watch.Pid, &status, LibC.WNOHANG);
                lock (_gate)
                {
                    _watches.Remove(watch.Pidfd);
                    LibC.close(watch.Pidfd);
                }
                watch.Exited.TrySetResult();
            }
            Array.Clear(owners);
        }
    }

}
