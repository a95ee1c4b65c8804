namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// What define can tell about the files a definition names without reading them: a kernel or initrd that is a
/// directory or an empty/special file (/dev/zero, a FIFO: size 0), or a disk that is a directory, can never boot.
/// A file that does not exist yet is allowed (it may be installed before the first start; start checks it again).
/// Not part of <see cref="DefinitionParser"/>: a stored definition must still load after its files changed.
/// </summary>
internal static class DefinitionFileCheck
{
    /// <exception cref="DefinitionException">Every unusable file, by field.</exception>
    public static void ThrowIfUnusable(DomainDefinition definition)
    {
        var errors = new List<DefinitionError>();
        foreach (var (field, path) in new[] { ("kernel", definition.Kernel), ("initrd", definition.Initrd) })
        {
            if (path is null)
                continue;
            if (Directory.Exists(path))
                errors.Add(new DefinitionError(field, $"{path} is a directory, not a file"));
            else if (File.Exists(path) && new FileInfo(path).Length == 0)
                errors.Add(new DefinitionError(field, $"{path} is empty or not a regular file"));
        }
        for (var i = 0; i < definition.Disks.Count; i++)
        {
            // A block device is a fine disk (its size reads as 0 here), so only a directory is refused.
            if (Directory.Exists(definition.Disks[i].Path))
                errors.Add(new DefinitionError($"disks[{i}].path", $"{definition.Disks[i].Path} is a directory, not a disk image or block device"));
        }
        if (errors.Count > 0)
            throw new DefinitionException(errors);
    }
}
