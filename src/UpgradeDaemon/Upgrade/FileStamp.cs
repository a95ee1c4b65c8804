using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Upgrade;

/// <summary>
/// What tells a file apart from the one seen before: device and inode (dpkg and rpm rename a new file over the old),
/// size and modification time (an in-place write). One stat(2); no content is read.
/// </summary>
internal sealed record FileStamp(FileIdentity? Identity, long Size, DateTime Modified)
{
    public static FileStamp Read(string path)
    {
        var file = new FileInfo(path);
        return file.Exists
            ? new FileStamp(FileIdentity.TryRead(path), file.Length, file.LastWriteTimeUtc)
            : new FileStamp(null, -1, DateTime.MinValue);
    }
}
