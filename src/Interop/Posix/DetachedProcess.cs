using System.Runtime.InteropServices;
using System.Text;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Starts a program in a session and process group of its own, with stdin on /dev/null and stdout/stderr
/// appended to a log file. Unlike <see cref="System.Diagnostics.Process"/> it keeps no pipe to the child, so
/// the child never gets SIGPIPE or SIGHUP when the daemon that started it exits: a VM outlives its daemon.
/// </summary>
public static unsafe class DetachedProcess
{
    // glibc's posix_spawnattr_t is 336 bytes and posix_spawn_file_actions_t 80 on x86_64; sigset_t 128.
    // Over-allocate so a libc with bigger structs can never write past our buffer.
    private const int OpaqueSize = 1024;

    /// <summary>The fd the first of <c>inheritedFds</c> gets in the child; the next ones follow it.</summary>
    public const int FirstInheritedFd = 3;

    /// <param name="inheritedFds">Open fds of this process the child gets as fds 3, 4, ... (in this order), e.g. a tap for
    /// QEMU's <c>-netdev tap,fd=3</c>. The caller keeps (and closes) its own.</param>
    /// <returns>The pid of the started program.</returns>
    public static int Spawn(string path, IReadOnlyList<string> arguments, string logPath, string workingDirectory = "/",
        IReadOnlyList<int>? inheritedFds = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"program not found: {path}", path);

        var attr = NativeMemory.AllocZeroed(OpaqueSize);
        var actions = NativeMemory.AllocZeroed(OpaqueSize);
        var emptySet = NativeMemory.AllocZeroed(OpaqueSize);
        var fullSet = NativeMemory.AllocZeroed(OpaqueSize);
        var strings = new List<IntPtr>();
        var staged = new List<int>();
        try
        {
            Check(LibC.posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(LibC.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            LibC.sigemptyset(emptySet);
            LibC.sigfillset(fullSet);
            // The runtime blocks and handles signals on its threads; the child must start with a clean slate.
            Check(LibC.posix_spawnattr_setsigmask(attr, emptySet), "setsigmask");
            Check(LibC.posix_spawnattr_setsigdefault(attr, fullSet), "setsigdefault");
            Check(LibC.posix_spawnattr_setflags(attr,
                (short)(LibC.POSIX_SPAWN_SETSID | LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF)), "setflags");
            Check(LibC.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", LibC.O_RDONLY, 0), "addopen stdin");
            Check(LibC.posix_spawn_file_actions_addopen(actions, 1, logPath,
                LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND, Convert.ToInt32("640", 8)), "addopen log");
            Check(LibC.posix_spawn_file_actions_adddup2(actions, 1, 2), "adddup2");
            var cwd = Utf8(workingDirectory, strings);
            Check(LibC.posix_spawn_file_actions_addchdir_np(actions, cwd), "addchdir");
            if (inheritedFds is { Count: > 0 })
            {
                // Staged above the target range first, so no dup2 overwrites a source a later one still needs; dup2
                // clears FD_CLOEXEC on the child's copy only.
                var floor = FirstInheritedFd + inheritedFds.Count;
                foreach (var fd in inheritedFds)
                {
                    var copy = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, floor);
                    if (copy < 0)
                        throw new IOException($"cannot stage fd {fd} for {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                    staged.Add(copy);
                }
                for (var i = 0; i < staged.Count; i++)
                    Check(LibC.posix_spawn_file_actions_adddup2(actions, staged[i], FirstInheritedFd + i), "adddup2 inherited fd");
            }

            var argv = (byte**)NativeMemory.AllocZeroed((nuint)((arguments.Count + 2) * sizeof(IntPtr)));
            strings.Add((IntPtr)argv);
            argv[0] = Utf8(path, strings);
            for (var i = 0; i < arguments.Count; i++)
                argv[i + 1] = Utf8(arguments[i], strings);

            var env = Environment.GetEnvironmentVariables();
            var envp = (byte**)NativeMemory.AllocZeroed((nuint)((env.Count + 1) * sizeof(IntPtr)));
            strings.Add((IntPtr)envp);
            var n = 0;
            foreach (System.Collections.DictionaryEntry entry in env)
                envp[n++] = Utf8($"{entry.Key}={entry.Value}", strings);

            int pid;
            var rc = LibC.posix_spawn(&pid, argv[0], actions, attr, argv, envp);
            if (rc != 0)
                throw new IOException($"cannot start {path}: {Marshal.GetPInvokeErrorMessage(rc)}");
            return pid;
        }
        finally
        {
            foreach (var fd in staged)
                LibC.close(fd);
            LibC.posix_spawn_file_actions_destroy(actions);
            LibC.posix_spawnattr_destroy(attr);
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(emptySet);
            NativeMemory.Free(fullSet);
            foreach (var p in strings)
                NativeMemory.Free((void*)p);
        }
    }

    private static byte* Utf8(string value, List<IntPtr> owned)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var p = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
        bytes.AsSpan().CopyTo(new Span<byte>(p, bytes.Length));
        owned.Add((IntPtr)p);
        return p;
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
            throw new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(rc)}");
    }
}
