using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Remote.Transport;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

/// <summary>
/// QEMU's own migration stream under TLS, between two real QEMU 7.2 processes on loopback: x509 with the test CA and
/// an authz-list in GnuTLS DN order, and a per-migration PSK. A refused identity or a wrong key must fail the migration.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class QemuMigrationTlsTests(ITestOutputHelper output, TestPki pki) : IClassFixture<TestPki>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly TestPki _pki = pki;
    private readonly string _dir = Directory.CreateTempSubdirectory("lm-tlsmig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task X509_ClientDnInAuthzList_MigrationCompletesOnBothSides()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await using var src = await MigrationQemu.StartAsync(_dir, "src", incoming: false);
        // The configuration's spelling (.NET form, spaces) becomes the GnuTLS identity QEMU compares.
        await QemuMigrationTls.DstX509Async(dst.Monitor, _pki.HostDirectory, ["CN=nobody,O=LocalMigrate", "CN=hostA, O=LocalMigrate"]);
        await QemuMigrationTls.SrcX509Async(src.Monitor, _pki.HostDirectory, "127.0.0.1");

        var (srcEnd, dstEnd) = await MigrateAsync(src, dst);

        Assert.Equal(MigrationStatus.Completed, srcEnd.Status);
        Assert.Equal(MigrationStatus.Completed, dstEnd.Status);
    }

    [Fact]
    public async Task X509_ClientDnNotInAuthzList_MigrationFailsAndDestinationNamesTheIdentity()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await using var src = await MigrationQemu.StartAsync(_dir, "src", incoming: false);
        await QemuMigrationTls.DstX509Async(dst.Monitor, _pki.HostDirectory, [TestPki.AllowedClientDn]);
        // Same CA, so the chain is fine: only the authz list can refuse it.
        await QemuMigrationTls.SrcX509Async(src.Monitor, _pki.RogueClientDirectory, "127.0.0.1");

        var srcEnd = await MigrateExpectingFailureAsync(src, dst);

        Assert.Equal(MigrationStatus.Failed, srcEnd.Status);
        await Poll.UntilAsync(() => dst.Stderr.Contains("O=LocalMigrate,CN=rogue"), Timeout, "the destination naming the refused identity");
        output.WriteLine($"destination: {dst.Stderr.Trim()}");
    }

    [Fact]
    public async Task X509_ClientDnWithCommaInAValue_ConvertedIdentityMatchesWhatGnuTlsPrints()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await using var src = await MigrationQemu.StartAsync(_dir, "src", incoming: false);
        await QemuMigrationTls.DstX509Async(dst.Monitor, _pki.HostDirectory, [TestPki.CommaClientDn]);
        await QemuMigrationTls.SrcX509Async(src.Monitor, _pki.CommaClientDirectory, "127.0.0.1");

        var (srcEnd, dstEnd) = await MigrateAsync(src, dst);

        Assert.Equal(MigrationStatus.Completed, srcEnd.Status);
        Assert.Equal(MigrationStatus.Completed, dstEnd.Status);
    }

    [Fact]
    public async Task X509_ServerCertificateFromAnotherCa_SourceRefusesIt()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await using var src = await MigrationQemu.StartAsync(_dir, "src", incoming: false);
        await QemuMigrationTls.DstX509Async(dst.Monitor, _pki.OtherCaHostDirectory, [TestPki.AllowedClientDn]);
        await QemuMigrationTls.SrcX509Async(src.Monitor, _pki.HostDirectory, "127.0.0.1");

        var srcEnd = await MigrateExpectingFailureAsync(src, dst);

        Assert.Equal(MigrationStatus.Failed, srcEnd.Status);
    }

    [Fact]
    public async Task Psk_SameKeyBothEnds_MigrationCompletes()
    {
        var key = MigrationPsk.CreateKey();
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await using var src = await MigrationQemu.StartAsync(_dir, "src", incoming: false);
        await QemuMigrationTls.DstPskAsync(dst.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk-dst"), key));
        await QemuMigrationTls.SrcPskAsync(src.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk-src"), key));

        var (srcEnd, dstEnd) = await MigrateAsync(src, dst);

        Assert.Equal(MigrationStatus.Completed, srcEnd.Status);
        Assert.Equal(MigrationStatus.Completed, dstEnd.Status);
    }

    [Fact]
    public async Task Psk_DifferentKeys_MigrationFails()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await using var src = await MigrationQemu.StartAsync(_dir, "src", incoming: false);
        await QemuMigrationTls.DstPskAsync(dst.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk-dst"), MigrationPsk.CreateKey()));
        await QemuMigrationTls.SrcPskAsync(src.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk-src"), MigrationPsk.CreateKey()));

        var srcEnd = await MigrateExpectingFailureAsync(src, dst);

        Assert.Equal(MigrationStatus.Failed, srcEnd.Status);
    }

    [Fact]
    public async Task ObjectAdd_X509DirectoryWithoutServerCertificate_QemuRefusesNamingTheFile()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);

        var e = await Assert.ThrowsAsync<QmpExecuteException>(() =>
            QemuMigrationTls.DstX509Async(dst.Monitor, _pki.NoClientCertificateDirectory, [TestPki.AllowedClientDn]));

        Assert.Equal("object-add", e.Command);
        Assert.Contains("server-cert.pem", e.Message);
    }

    [Fact]
    public async Task RemoveAsync_AfterX509Setup_ParametersClearedAndObjectsGoneSoSetupRunsAgain()
    {
        await using var dst = await MigrationQemu.StartAsync(_dir, "dst", incoming: true);
        await QemuMigrationTls.DstX509Async(dst.Monitor, _pki.HostDirectory, [TestPki.AllowedClientDn]);

        await QemuMigrationTls.RemoveAsync(dst.Monitor);
        await QemuMigrationTls.RemoveAsync(dst.Monitor);

        // The ids are free again: a second setup (e.g. PSK after a failed x509 attempt) is accepted.
        await QemuMigrationTls.DstPskAsync(dst.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk"), MigrationPsk.CreateKey()));
        await Assert.ThrowsAsync<QmpExecuteException>(() => dst.Monitor.ObjectDelAsync(QemuMigrationTls.AuthzId));
    }

    /// <summary>
    /// One boot of the test guest (256 MiB, 128 MiB of it the verified pattern) hops plain → x509 → PSK, so each mode
    /// moves the same guest; the guest ticks on without a gap in its boot and its RAM pattern stays intact. The times
    /// go to the test output for the benchmark table.
    /// </summary>
    [Fact]
    public async Task Migrate_TestGuestThroughPlainX509AndPsk_GuestContinuousAndEachModeTimed()
    {
        var log = Path.Combine(_dir, "console.log");
        var console = new GuestConsole(log);
        var current = await MigrationQemu.StartAsync(_dir, "hop0", incoming: false, memoryMiB: 256, consoleLog: log, patternMiB: 128);
        try
        {
            await console.WaitForPatternPassesAsync(1, Timeout);
            var key = MigrationPsk.CreateKey();
            var hops = new (string Mode, Func<MigrationQemu, MigrationQemu, Task> Setup)[]
            {
                ("plain", (_, _) => Task.CompletedTask),
                ("tls-x509", async (s, d) =>
                {
                    await QemuMigrationTls.DstX509Async(d.Monitor, _pki.HostDirectory, [TestPki.AllowedClientDn]);
                    await QemuMigrationTls.SrcX509Async(s.Monitor, _pki.HostDirectory, "127.0.0.1");
                }),
                ("tls-psk", async (s, d) =>
                {
                    await QemuMigrationTls.DstPskAsync(d.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk-dst"), key));
                    await QemuMigrationTls.SrcPskAsync(s.Monitor, MigrationPsk.WriteKeyFile(Path.Combine(_dir, "psk-src"), key));
                }),
            };
            int n = 0;
            foreach (var (mode, setup) in hops)
            {
                var next = await MigrationQemu.StartAsync(_dir, $"hop{++n}", incoming: true, memoryMiB: 256, consoleLog: log, patternMiB: 128);
                try
                {
                    await setup(current, next);
                    var (end, _) = await MigrateAsync(current, next);
                    Assert.Equal(MigrationStatus.Completed, end.Status);
                    double seconds = end.TotalTime!.Value / 1000.0;
                    output.WriteLine($"{mode}: total {end.TotalTime} ms, downtime {end.Downtime} ms, transferred {end.Ram!.Transferred / 1048576.0:0.0} MiB, "
                        + $"{end.Ram.Transferred / 1048576.0 / seconds:0} MiB/s ({end.Ram.Mbps:0} Mbit/s at the end)");
                }
                catch
                {
                    await next.DisposeAsync();
                    throw;
                }
                // As the daemon will: the new home drops the credentials, so its next migration (the next hop) starts clean.
                await QemuMigrationTls.RemoveAsync(next.Monitor);
                await current.DisposeAsync();
                current = next;
                var last = console.LastTick()!.Counter;
                await console.WaitForTicksAsync(last, 20, Timeout);
            }
            await console.WaitForPatternPassesAsync(console.PatternPasses() + 1, Timeout);
            console.AssertContinuous();
        }
        finally
        {
            await current.DisposeAsync();
        }
    }

    private static async Task<(MigrationInfo Src, MigrationInfo Dst)> MigrateAsync(MigrationQemu src, MigrationQemu dst)
    {
        int port = MigrationQemu.FreePort();
        // Guest RAM at full speed: QEMU's default of 128 MiB/s would measure the limit, not the transport.
        await src.Monitor.MigrateSetParametersAsync(new MigrationParameters { MaxBandwidth = 1L << 40 });
        await dst.Monitor.MigrateIncomingAsync($"tcp:127.0.0.1:{port}");
        await src.Monitor.MigrateAsync($"tcp:127.0.0.1:{port}");
        var srcEnd = await src.WaitForMigrationEndAsync(Timeout);
        Assert.True(srcEnd.Status == MigrationStatus.Completed, $"source: {srcEnd.Status} {srcEnd.ErrorDesc}; destination: {dst.Stderr}");
        var dstEnd = await dst.WaitForMigrationEndAsync(Timeout);
        return (srcEnd, dstEnd);
    }

    private async Task<MigrationInfo> MigrateExpectingFailureAsync(MigrationQemu src, MigrationQemu dst)
    {
        int port = MigrationQemu.FreePort();
        await dst.Monitor.MigrateIncomingAsync($"tcp:127.0.0.1:{port}");
        await src.Monitor.MigrateAsync($"tcp:127.0.0.1:{port}");
        var end = await src.WaitForMigrationEndAsync(Timeout);
        output.WriteLine($"source: {end.Status}: {end.ErrorDesc}");
        return end;
    }
}
