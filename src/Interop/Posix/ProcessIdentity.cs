namespace LocalMigrate.Interop.Posix;

/// <summary>
/// What tells one process apart from a later one that reuses its pid: the kernel's start time
/// (field 22 of /proc/PID/stat, clock ticks since boot) together with the pid.
/// </summary>
public sealed record ProcessIdentity(int Pid, ulong StartTime);
