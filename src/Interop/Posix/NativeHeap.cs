using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>glibc malloc tuning for a process that runs for months (mallopt(3)).</summary>
public static partial class NativeHeap
{
    // malloc.h
    private const int M_ARENA_MAX = -8;

    /// <summary>
    /// Caps glibc's malloc arenas. By default every thread that mallocs gets its own arena (up to 8 per core) and
    /// keeps what is freed in it; the thread pool moves native work (the JIT, the sd-bus binding) across threads, so
    /// freed space piles up per arena. Measured on the daemon with 16 VMs, 50 migrations: arenas 11 -> 17 MB and
    /// still growing by default, 3.2 MB and flat with 2 (MALLOC_ARENA_MAX=2). An operator's MALLOC_ARENA_MAX wins.
    /// </summary>
    /// <returns>False when not applied (set by the environment, or not glibc).</returns>
    public static bool LimitArenas(int arenas)
    {
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
            return false;
        try
        {
            return mallopt(M_ARENA_MAX, arenas) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int mallopt(int param, int value);
}
