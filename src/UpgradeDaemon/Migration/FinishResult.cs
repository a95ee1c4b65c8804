using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <param name="RunState">The target's QEMU run state once the stream arrived: running, or paused if the source was.</param>
public sealed record FinishResult(int Pid, string QemuVersion, RunState RunState);
