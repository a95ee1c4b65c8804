namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>
/// The snapshot records of a domain that arrived by remote migration, on the destination: what the source sent, checked
/// against <c>qemu-img info</c> of each image here (the images stay the truth). One piece of code for every remote move:
/// shared storage (checked at Prepare, the images are here already) and storage copy (checked once the copied images
/// are merged, after the commit).
/// </summary>
public static class SnapshotArrival
{
    /// <summary>Each image's snapshot table (path → snapshots); a path that is not here holds none.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<ImageSnapshot>>> ReadImagesAsync(string qemuImg, IEnumerable<string> paths,
        CancellationToken cancellationToken)
    {
        var images = new Dictionary<string, IReadOnlyList<ImageSnapshot>>(StringComparer.Ordinal);
        foreach (var path in paths.Distinct(StringComparer.Ordinal))
            images[path] = File.Exists(path) ? (await QemuImg.InfoAsync(qemuImg, path, cancellationToken).ConfigureAwait(false)).Snapshots : [];
        return images;
    }

    /// <summary>
    /// Pure. <paramref name="sent"/> null (an older source, or one that recorded none): the records are made from the
    /// images alone. Otherwise each sent record is kept (name, creation time, disks) where the images agree; where they do
    /// not, the record says what the images hold and <see cref="SnapshotRecord.Problem"/> says what differed. A snapshot in
    /// an image that the source never recorded stays unrecorded here too (listed as untracked, as it was there).
    /// </summary>
    public static IReadOnlyList<SnapshotRecord> Reconcile(IReadOnlyList<SnapshotRecord>? sent, IReadOnlyDictionary<string, IReadOnlyList<ImageSnapshot>> images)
    {
        if (sent is null)
        {
            return images.SelectMany(image => image.Value.Select(s => (Path: image.Key, Snapshot: s)))
                .GroupBy(f => f.Snapshot.Name, StringComparer.Ordinal)
                .Select(g => new SnapshotRecord(g.Key, g.Min(f => f.Snapshot.Date), g.Any(f => f.Snapshot.VmStateSize > 0),
                    g.Select(f => f.Path).Distinct(StringComparer.Ordinal).ToList()))
                .ToList();
        }
        var records = new List<SnapshotRecord>();
        foreach (var record in sent)
        {
            var held = record.Disks
                .Select(path => (Path: path, Snapshot: images.TryGetValue(path, out var table) ? table.FirstOrDefault(s => s.Name == record.Name) : null))
                .ToList();
            var missing = held.Where(h => h.Snapshot is null).Select(h => h.Path).ToList();
            if (missing.Count > 0)
            {
                // Kept as sent: the list shows it missing from those images, and revert refuses it.
                records.Add(record with { Problem = $"the source recorded it in {string.Join(", ", record.Disks)}; on arrival {string.Join(", ", missing)} did not hold it" });
                continue;
            }
            var vmState = held.Any(h => h.Snapshot!.VmStateSize > 0);
            records.Add(vmState == record.VmState
                ? record with { Problem = null }
                : record with
                {
                    VmState = vmState,
                    Problem = $"the source recorded it {(record.VmState ? "with" : "without")} a VM state; on arrival the images held it {(vmState ? "with" : "without")} one",
                });
        }
        return records;
    }
}
