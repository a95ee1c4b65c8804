using System.Diagnostics;

namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>Runs <c>qemu-img</c> for what QMP cannot answer: the snapshot tables of images no QEMU (or a running one) has open.</summary>
internal static class QemuImg
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The qemu-img beside the domain's QEMU binary (same package, same image format code), else the one on PATH.</summary>
    public static string For(string qemuBinary)
    {
        var beside = Path.Combine(Path.GetDirectoryName(qemuBinary) ?? "/usr/bin", "qemu-img");
        return File.Exists(beside) ? beside : "qemu-img";
    }

    /// <summary>
    /// <c>--force-share</c>: reads the image even while a QEMU holds its write lock. The snapshot table is written by
    /// QEMU when a snapshot is taken or deleted, so it is current; only guest data may be in flight.
    /// </summary>
    public static async Task<ImageInfo> InfoAsync(string qemuImg, string image, CancellationToken cancellationToken)
    {
        var output = await RunAsync(qemuImg, ["info", "--force-share", "--output=json", image], cancellationToken).ConfigureAwait(false);
        try
        {
            return ImageInfoParser.Parse(output);
        }
        catch (FormatException e)
        {
            throw new SnapshotException($"{image}: {e.Message}", e);
        }
    }

    /// <summary><c>qemu-img snapshot -c|-a|-d NAME IMAGE</c>, for an image no QEMU has open.</summary>
    public static Task SnapshotAsync(string qemuImg, char operation, string name, string image, CancellationToken cancellationToken) =>
        RunAsync(qemuImg, ["snapshot", "-" + operation, name, image], cancellationToken);

    /// <summary><c>qemu-img commit -d OVERLAY</c>: the overlay's clusters written into its backing file (the overlay left as it is).</summary>
    public static Task CommitAsync(string qemuImg, string overlay, CancellationToken cancellationToken) =>
        RunAsync(qemuImg, ["commit", "-q", "-d", overlay], cancellationToken);

    /// <summary>
    /// <c>qemu-img create -f FORMAT PATH SIZE</c>, or over <paramref name="backing"/> (an overlay: size and content from it).
    /// Refuses to touch an existing file: an image is never overwritten.
    /// </summary>
    public static Task CreateAsync(string qemuImg, string path, string format, long virtualSize, (string Path, string Format)? backing,
        CancellationToken cancellationToken)
    {
        if (File.Exists(path))
            throw new SnapshotException($"{path} exists: an image is never overwritten");
        string[] arguments = backing is { } b
            ? ["create", "-q", "-f", format, "-b", b.Path, "-F", b.Format, path, virtualSize.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            : ["create", "-q", "-f", format, path, virtualSize.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        return RunAsync(qemuImg, arguments, cancellationToken);
    }

    private static async Task<string> RunAsync(string qemuImg, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(qemuImg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SnapshotException($"cannot run {qemuImg}: {e.Message}", e);
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            throw new SnapshotException($"{qemuImg} {string.Join(' ', arguments)}: no answer within {Timeout.TotalSeconds:0} s");
        }
        var error = (await stderr.ConfigureAwait(false)).Trim();
        if (process.ExitCode != 0)
            throw new SnapshotException($"{qemuImg} {string.Join(' ', arguments)} failed: {(error.Length > 0 ? error : $"exit status {process.ExitCode}")}");
        return await stdout.ConfigureAwait(false);
    }
}
