namespace LocalMigrate.Interop.Posix;

/// <summary>One process watched by <see cref="PidfdPoller"/>: its pidfd (owned by the poller) and what completes when
/// the process exits or the watch is released.</summary>
internal sealed record PidfdWatch(int Pid, int Pidfd, TaskCompletionSource Exited);
