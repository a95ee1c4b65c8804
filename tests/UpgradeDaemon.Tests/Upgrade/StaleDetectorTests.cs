using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Upgrade;

/// <summary>
/// The cached stale report against real replacements done the way dpkg does them (new file renamed over the old),
/// on a private copy of an older QEMU build: it turns stale without anyone asking, the domain's Changed fires, and a
/// change of the package database makes it probe the installed binary, so the package-version reason shows.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class StaleDetectorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Current_ModuleReplacedLikeDpkg_TurnsStaleOnTheTimerAndRaisesChanged()
    {
        await using var engine = new EngineHarness(output, o => o with
        {
            StaleCheckInterval = TimeSpan.FromMilliseconds(200),
            PackageDatabases = [],
        });
        var binary = CopyOldQemuTree(engine.Root);
        var stale = engine.Stale;
        await engine.BootGuestAsync("st1", 128, qemu: binary);
        var domain = engine.Registry.Get("st1");
        await stale.RefreshAsync(CancellationToken.None);
        Assert.False(stale.Current(domain).IsStale, string.Join("; ", stale.Current(domain).Reasons));
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.Registry.Changed += d =>
        {
            if (d == domain && stale.Current(d).IsStale)
                changed.TrySetResult();
        };

        var module = Path.Combine(TreeOf(binary), "usr", "lib", "x86_64-linux-gnu", "qemu", "accel-tcg-x86_64.so");
        ReplaceLikeDpkg(module, module);

        await changed.Task.WaitAsync(Deadline);
        Assert.Contains(stale.Current(domain).Reasons, r => r == $"library replaced: {module}");
    }

    [Fact]
    public async Task Current_QemuUpgradedThenPackageDatabaseReplaced_ReportsInstalledPackageVersion()
    {
        var status = Path.Combine(Path.GetTempPath(), $"lm-dpkg-{Guid.NewGuid():N}", "status");
        Directory.CreateDirectory(Path.GetDirectoryName(status)!);
        await File.WriteAllTextAsync(status, "Package: qemu-system-x86\nVersion: 1:7.2+dfsg-7+deb12u15\n");
        try
        {
            // No timer in this test: only the package database can make the detector look again.
            await using var engine = new EngineHarness(output, o => o with
            {
                StaleCheckInterval = TimeSpan.FromHours(1),
                PackageDatabases = [status],
            });
            var binary = CopyOldQemuTree(engine.Root);
            var stale = engine.Stale;
            await engine.BootGuestAsync("st2", 128, qemu: binary);
            var domain = engine.Registry.Get("st2");
            var running = domain.Active!.Record.QemuPackage;
            Assert.Contains("deb12u15", running);
            await stale.RefreshAsync(CancellationToken.None);
            Assert.False(stale.Current(domain).IsStale, string.Join("; ", stale.Current(domain).Reasons));

            // apt upgrade: the installed build's binary and modules replace the old ones in the tree...
            var tree = TreeOf(binary);
            ReplaceLikeDpkg("/usr/bin/qemu-system-x86_64", binary);
            foreach (var module in Directory.GetFiles("/usr/lib/x86_64-linux-gnu/qemu", "*.so"))
                ReplaceLikeDpkg(module, Path.Combine(tree, "usr", "lib", "x86_64-linux-gnu", "qemu", Path.GetFileName(module)));
            // ...and the report is a cached value: nothing read the disk since, so it still says fresh.
            Assert.False(stale.Current(domain).IsStale);

            // ...then dpkg writes its database (status-new renamed over status).
            await File.WriteAllTextAsync(status + "-new", "Package: qemu-system-x86\nVersion: 1:7.2+dfsg-7+deb12u18\n");
            File.Move(status + "-new", status, overwrite: true);

            await Poll.UntilAsync(() => stale.Current(domain).Reasons.Any(r => r.StartsWith($"QEMU {running} running, ", StringComparison.Ordinal)),
                Deadline, "the package-version reason");
            var reasons = stale.Current(domain).Reasons;
            output.WriteLine(string.Join("\n", reasons));
            Assert.Contains(reasons, r => r == $"binary replaced or deleted: {binary} (deleted)");
            Assert.DoesNotContain("deb12u15", reasons.Single(r => r.StartsWith("QEMU ", StringComparison.Ordinal)).Split(" running, ")[1]);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(status)!, recursive: true);
        }
    }

    /// <summary>A private copy of the unpacked older QEMU tree, so replacing its files touches nothing else.</summary>
    private static string CopyOldQemuTree(string root)
    {
        var tree = Path.Combine(root, "qemu");
        Directory.CreateDirectory(root);
        ProcessRunner.Run("cp", "-a", Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OldQemu.Path)!, "..", "..")), tree);
        return Path.Combine(tree, "usr", "bin", "qemu-system-x86_64");
    }

    private static string TreeOf(string binary) => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(binary)!, "..", ".."));

    /// <summary>dpkg's way: the new file is written beside the old and renamed over it; the old inode lives on in running processes.</summary>
    private static void ReplaceLikeDpkg(string source, string path)
    {
        var next = path + ".dpkg-new";
        File.Copy(source, next, overwrite: true);
        File.SetUnixFileMode(next, File.GetUnixFileMode(source));
        File.Move(next, path, overwrite: true);
    }
}
