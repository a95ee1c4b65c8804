namespace LocalMigrate.Interop.Tests.Journal;

/// <summary>
/// Tests that change process-wide native state (setenv(3) of NOTIFY_SOCKET/WATCHDOG_*, a socket at the fixed
/// journald path). They run alone: setenv racing with getenv on another thread is undefined behaviour.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalStateCollection
{
    public const string Name = "Global native state";
}
