using LocalMigrate.Interop.Posix;

namespace LocalMigrate.Interop.Tests.Posix;

/// <summary>
/// A <c>sleep 600</c> started the way the daemon starts QEMU (posix_spawn), not through
/// <see cref="System.Diagnostics.Process"/>. The pidfd poller reaps a child it sees exit; a child the runtime's
/// Process class also tracks would be reaped twice, and the runtime's SIGCHLD handler fails fast on the ECHILD
/// ("Error while reaping child. errno = 10": the test host aborted 1 run in 8 with Process.Start here).
/// </summary>
internal sealed class SleeperProcess : IDisposable
{
    private readonly ProcessIdentity _identity;

    private SleeperProcess(int pid)
    {
        Id = pid;
        _identity = ProcFs.TryReadIdentity(pid) ?? throw new InvalidOperationException($"sleep (pid {pid}) is gone at once");
    }

    public int Id { get; }

    public static SleeperProcess Start() => new(DetachedProcess.Spawn("/bin/sleep", ["600"], "/dev/null"));

    /// <summary>SIGKILL, by identity: never a recycled pid.</summary>
    public void Kill() => Signals.Kill(_identity);

    /// <summary>Kills it and reaps it here (no watcher does).</summary>
    public unsafe void KillAndReap()
    {
        Kill();
        int status;
        LibC.waitpid(Id, &status, 0);
    }

    /// <summary>Kills it and reaps it if nothing else did.</summary>
    public unsafe void Dispose()
    {
        Kill();
        int status;
        LibC.waitpid(Id, &status, LibC.WNOHANG);
    }
}
