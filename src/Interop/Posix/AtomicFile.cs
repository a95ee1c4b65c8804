using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Replaces a file so that a reader or a crash sees either the old content or the new, never a mix:
/// write a temporary file in the same directory, rename it over the target. On failure (a full disk, say) the
/// target is untouched and the temporary file is removed.
/// </summary>
public static class AtomicFile
{
    /// <param name="durability">
    /// <see cref="FileDurability.SurvivesHostCrash"/> also fsyncs the file before the rename and the directory after
    /// it. <see cref="FileDurability.SurvivesProcessCrash"/> does not: the rename alone is atomic for every reader
    /// and for a crash of the writing process, whose written pages stay in the page cache.
    /// </param>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, FileDurability durability,
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var durable = durability == FileDurability.SurvivesHostCrash;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
                   {
                       Mode = FileMode.CreateNew,
                       Access = FileAccess.Write,
                       UnixCreateMode = mode,
                   }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: durable);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        if (durable)
            SyncDirectory(directory);
    }

    private static void SyncDirectory(string directory)
    {
        var fd = LibC.open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
            throw new IOException($"cannot open {directory}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        try
        {
            if (LibC.fsync(fd) != 0)
                throw new IOException($"cannot sync {directory}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
