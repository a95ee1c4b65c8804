using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>
/// The options of one migration as QEMU capabilities and parameters for the source and the target, for the QEMU
/// versions of both sides. Pure: <see cref="Plan"/> decides, MigrationAny applies and reads back.
/// <para>Both sides must agree on multifd, postcopy-ram and x-ignore-shared (the stream's format depends on them) and
/// on multifd-channels/multifd-compression; xbzrle, auto-converge and the bandwidths only matter on the source.</para>
/// </summary>
public sealed record MigrationTuning(MigrationSideTuning Source, MigrationSideTuning Target)
{
    /// <summary>The first QEMU that applies a multifd compression level set by migrate-set-parameters (DESIGN.md 6).</summary>
    public static readonly Version LevelSettableFrom = new(9, 0);

    /// <summary>
    /// The first QEMU whose TCG keeps its dirty-page tracking coherent during a migration. Before it (upstream commit
    /// 03bfc2188f, "physmem: Fix migration dirty bitmap coherency with TCG memory access", QEMU 9.0; not in Debian's
    /// 7.2.22), the bitmap sync clears dirty bits without resetting the vCPUs' TLB entries, so a guest store through an
    /// entry made writable earlier sets no bit and the page is never sent again: the destination resumes with stale RAM.
    /// Seen here as guest kernel panics right after a remote move. KVM tracks dirty pages itself and is not affected.
    /// </summary>
    public static readonly Version TcgDirtyTrackingFixedIn = new(9, 0);

    /// <summary>The guest stays stopped from before <c>migrate</c> until the target resumes it: one pass, nothing dirtied.</summary>
    public bool PausesGuest { get; init; }

    /// <summary>Why the guest is paused for the transfer, or why a live copy goes ahead despite the hazard; null when neither.</summary>
    public string? TransferNote { get; init; }

    /// <summary>Why a live copy of this guest's RAM would lose guest writes; null when it is safe.</summary>
    /// <param name="accel">The accelerator the source QEMU runs with ("kvm" or "tcg").</param>
    public static string? LiveCopyHazard(string accel, string sourceVersion, bool ignoreShared) =>
        !ignoreShared && accel == "tcg" && ParseVersion(sourceVersion) < TcgDirtyTrackingFixedIn
            ? $"QEMU {sourceVersion} under TCG loses guest writes made during a live copy of RAM (fixed in QEMU {TcgDirtyTrackingFixedIn}, " +
              "upstream commit 03bfc2188f)"
            : null;

    /// <summary>The capabilities the daemon manages; each is sent on or off, because a QEMU keeps them from an earlier migration.</summary>
    public static IReadOnlyList<MigrationCapability> Managed { get; } =
    [
        MigrationCapability.Events, MigrationCapability.XIgnoreShared, MigrationCapability.Multifd, MigrationCapability.PostcopyRam,
        MigrationCapability.Xbzrle, MigrationCapability.AutoConverge, MigrationCapability.PauseBeforeSwitchover,
    ];

    /// <param name="sourceVersion">QEMU version of the running source, e.g. "7.2.22". The target's does not change the plan: the
    /// receiving side of every setting here behaves the same from 7.2 to 10.0 (measured 7.2 -> 10.0 in DESIGN.md 6).</param>
    /// <returns>The tuning, or every reason it cannot be done on this source.</returns>
    /// <param name="accel">The source QEMU's accelerator: with TCG before QEMU 9.0 the guest is paused for a copied transfer
    /// unless the options ask for a live one (<see cref="LiveCopyHazard"/>).</param>
    public static MigrationTuningPlan Plan(MigrationOptions options, string sourceVersion, bool ignoreShared, string accel = "kvm")
    {
        var errors = new List<string>();
        var multifd = options.UsesMultifd;
        var compression = options.UsesMtCompression ? options.CompressMtAlgorithm ?? MultifdCompression.Zstd : MultifdCompression.None;
        if (options.CompressMtLevel is { } level && ParseVersion(sourceVersion) < LevelSettableFrom)
        {
            // Measured on 7.2.22: migrate-set-parameters multifd-zstd-level 19 answers success, query-migrate-parameters still shows 1
            // and the transfer runs at level 1's speed; -global migration.multifd-zstd-level=19 at start is held and used.
            errors.Add($"option compMtLevel (comp_mt_level) {level}: the source runs QEMU {sourceVersion}, which accepts a multifd compression level " +
                       $"on a running QEMU without error but ignores it (fixed in QEMU {LevelSettableFrom}); the level only takes effect with -global " +
                       $"migration.multifd-{compression.ToQapiString()}-level at QEMU start, and this QEMU is already running. Leave the level out " +
                       "(QEMU's default: 1)");
        }
        if (ignoreShared && options.Postcopy == true)
            errors.Add("option postcopy: the domain's RAM is shared and mapped by the target, not copied (x-ignore-shared): postcopy would have nothing to fetch");
        if (errors.Count > 0)
            return new MigrationTuningPlan(null, errors);

        var source = new MigrationParameters
        {
            MaxBandwidth = options.MaxBandwidth ?? MigrationOptions.UnlimitedBandwidth,
            DowntimeLimit = options.DowntimeLimitMs ?? MigrationOptions.DefaultDowntimeLimitMs,
            MultifdChannels = multifd ? options.MultifdChannels : null,
            // Always sent: a QEMU keeps it from an earlier migration (one that arrived with zstd would show zstd forever).
            MultifdCompression = compression,
            MultifdZstdLevel = compression == MultifdCompression.Zstd ? options.CompressMtLevel : null,
            MultifdZlibLevel = compression == MultifdCompression.Zlib ? options.CompressMtLevel : null,
            XbzrleCacheSize = options.UsesXbzrle ? options.CompressXbzrleCacheBytes : null,
            // 0 is unlimited: once in postcopy the guest runs on the target and waits for every missing page.
            MaxPostcopyBandwidth = options.Postcopy == true ? options.PostcopyBandwidth ?? 0 : null,
        };
        var target = new MigrationParameters
        {
            MultifdChannels = multifd ? options.MultifdChannels : null,
            MultifdCompression = compression,
        };
        var hazard = LiveCopyHazard(accel, sourceVersion, ignoreShared);
        // An explicit pauseGuest wins; a live-only option (postcopy, auto-converge, a converge policy) asks for a live copy.
        var pauses = options.PauseGuest ?? (hazard is not null && !options.AsksForLiveCopy);
        return new MigrationTuningPlan(new MigrationTuning(
            new MigrationSideTuning(Capabilities(options, ignoreShared, sourceSide: true), source),
            new MigrationSideTuning(Capabilities(options, ignoreShared, sourceSide: false), target))
        {
            PausesGuest = pauses,
            TransferNote = hazard is null ? null
                : pauses ? $"the guest stays paused for the transfer: {hazard}"
                : $"copied live as asked, at a risk: {hazard}",
        }, []);
    }

    /// <summary>A target prepared without a plan (a request from an older peer): the capabilities every migration needs.</summary>
    public static MigrationSideTuning MinimalTarget(bool ignoreShared) =>
        new(Capabilities(new MigrationOptions(), ignoreShared, sourceSide: false), new MigrationParameters());

    private static IReadOnlyList<MigrationCapabilityStatus> Capabilities(MigrationOptions options, bool ignoreShared, bool sourceSide) =>
    [
        // MIGRATION events drive the job on both sides: no polling in the switch-over window.
        new(MigrationCapability.Events, true),
        new(MigrationCapability.XIgnoreShared, ignoreShared),
        new(MigrationCapability.Multifd, options.UsesMultifd),
        new(MigrationCapability.PostcopyRam, options.Postcopy == true),
        // Source-only: the target decodes xbzrle pages and follows a throttled source without being told.
        new(MigrationCapability.Xbzrle, sourceSide && options.UsesXbzrle),
        new(MigrationCapability.AutoConverge, sourceSide && options.AutoConverge == true),
        // Source-only: storage copy switches the disks at pre-switchover. Sent off otherwise, so a QEMU left with it on
        // (a daemon that died in a storage copy) never waits at a switch nobody makes.
        new(MigrationCapability.PauseBeforeSwitchover, sourceSide && options.CopyStorage != CopyStorage.None),
    ];

    /// <summary>"7.2.22" or "10.0.2 (Debian ...)": major.minor; an unreadable version counts as old.</summary>
    public static Version ParseVersion(string version)
    {
        var numbers = version.Split(' ', 2)[0].Split('.');
        return numbers.Length >= 2 && int.TryParse(numbers[0], out var major) && int.TryParse(numbers[1], out var minor)
            ? new Version(major, minor)
            : new Version(0, 0);
    }
}
