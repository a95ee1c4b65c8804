using System.Globalization;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Migration;
using Key = LocalMigrate.Contract.BusContract.MigrateOptions;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Reads the a{sv} options of Migrate/Upgrade: the canonical keys and Salt's virt.migrate names as aliases. Every
/// problem is reported at once in one <see cref="ArgumentException"/>: an unknown key, a bad value (with its D-Bus
/// type), a key given twice (canonical and alias) with different values, and combinations QEMU 7.2 breaks or ignores.
/// </summary>
internal static class MigrationOptionsReader
{
    private const long MiB = 1L << 20;

    /// <summary>QEMU's downtime-limit maximum (qapi/migration.json: 2000 seconds).</summary>
    private const long MaxDowntimeMs = 2_000_000;

    public static IReadOnlyList<MigrationOptionKey> All { get; } =
    [
        Same(Key.TargetBinary, v => v is string path && Path.IsPathRooted(path) ? path : null, "an absolute path, type s",
            (o, v) => o with { TargetBinary = (string)v }),
        new(Key.MaxBandwidth, Key.Salt.MaxBandwidth, v => Integer(v, 1, long.MaxValue) is { } n ? Math.Min(n, MigrationOptions.UnlimitedBandwidth) : null,
            v => Integer(v, 1, MigrationOptions.UnlimitedBandwidth / MiB) is { } n ? n * MiB : null,
            "bytes per second > 0, type t", "MiB per second > 0, an integer",
            (o, v) => o with { MaxBandwidth = (long)v }),
        new(Key.DowntimeLimitMs, Key.Salt.MaxDowntime, v => Integer(v, 1, MaxDowntimeMs), v => Integer(v, 1, MaxDowntimeMs),
            "milliseconds 1 to 2000000, type u", "milliseconds 1 to 2000000, an integer",
            (o, v) => o with { DowntimeLimitMs = (int)(long)v }),
        Same(Key.IgnoreShared, v => v as bool?, "type b", (o, v) => o with { IgnoreShared = (bool)v }),
        Same(Key.TimeoutSeconds, v => Integer(v, 1, 86_400), "seconds 1 to 86400, type u",
            (o, v) => o with { Timeout = TimeSpan.FromSeconds((long)v) }),
        Aliased(Key.ParallelConnections, Key.Salt.ParallelConnections, v => Integer(v, 1, 255), "1 to 255, type u",
            (o, v) => o with { ParallelConnections = (int)(long)v }),
        Same(Key.Compressed, v => v as bool?, "type b", (o, v) => o with { Compressed = (bool)v }),
        Aliased(Key.CompMethods, Key.Salt.CompMethods, CompressMethods, "\"mt\", \"xbzrle\" or both, type s (comma-separated) or as",
            (o, v) => o with { CompressMethods = (MigrationCompressMethods)v }),
        Same(Key.CompMtAlgorithm, v => v switch { "zstd" => MultifdCompression.Zstd, "zlib" => MultifdCompression.Zlib, _ => null },
            "\"zstd\" or \"zlib\", type s", (o, v) => o with { CompressMtAlgorithm = (MultifdCompression)v }),
        Aliased(Key.CompMtLevel, Key.Salt.CompMtLevel, v => Integer(v, 0, 20), "0 to 20 (zlib: 0 to 9), type u",
            (o, v) => o with { CompressMtLevel = (int)(long)v }),
        Aliased(Key.CompMtThreads, Key.Salt.CompMtThreads, v => Integer(v, 1, 255), "1 to 255, type u",
            (o, v) => o with { CompressMtThreads = (int)(long)v }),
        Aliased(Key.CompXbzrleCacheMiB, Key.Salt.CompXbzrleCache, v => Integer(v, 1, 1 << 20), "MiB 1 to 1048576, type t",
            (o, v) => o with { CompressXbzrleCacheBytes = (long)v * MiB }),
        Same(Key.Postcopy, v => v as bool?, "type b", (o, v) => o with { Postcopy = (bool)v }),
        new(Key.PostcopyBandwidth, Key.Salt.PostcopyBandwidth, v => Integer(v, 1, long.MaxValue),
            v => Integer(v, 1, long.MaxValue / MiB) is { } n ? n * MiB : null,
            "bytes per second > 0, type t", "MiB per second > 0, an integer",
            (o, v) => o with { PostcopyBandwidth = (long)v }),
        Aliased(Key.AutoConverge, Key.Salt.AutoConverge, v => v as bool?, "type b", (o, v) => o with { AutoConverge = (bool)v }),
        new(Key.Offline, Key.Salt.Live, v => v as bool?, v => v is bool live ? !live : null, "type b", "type b",
            (o, v) => o with { Offline = (bool)v }),
        Same(Key.Persistent, v => v as bool?, "type b", (o, v) => o with { Persistent = (bool)v }),
        Aliased(Key.UndefineSource, Key.Salt.UndefineSource, v => v as bool?, "type b", (o, v) => o with { UndefineSource = (bool)v }),
        Aliased(Key.CopyStorage, Key.Salt.CopyStorage, v => v switch
            {
                "none" => CopyStorage.None,
                "all" => CopyStorage.All,
                "inc" => CopyStorage.Inc,
                _ => (object?)null,
            }, "\"none\", \"all\" or \"inc\", type s", (o, v) => o with { CopyStorage = (CopyStorage)v }),
        Same(Key.ConvergePolicy, v => v switch
            {
                Key.ConvergePolicies.Cancel => MigrationConvergePolicy.Cancel,
                Key.ConvergePolicies.Postcopy => MigrationConvergePolicy.Postcopy,
                Key.ConvergePolicies.Pause => MigrationConvergePolicy.Pause,
                _ => null,
            }, "\"cancel\", \"postcopy\" or \"pause\", type s", (o, v) => o with { ConvergePolicy = (MigrationConvergePolicy)v }),
        Same(Key.PauseGuest, v => v as bool?, "type b", (o, v) => o with { PauseGuest = (bool)v }),
        Same(Key.ConvergePasses, v => Integer(v, 1, 100_000), "passes 1 to 100000, type u",
            (o, v) => o with { ConvergePasses = (int)(long)v }),
        Same(Key.ConvergeTimeoutSeconds, v => Integer(v, 1, 86_400), "seconds 1 to 86400, type u",
            (o, v) => o with { ConvergeTimeout = TimeSpan.FromSeconds((long)v) }),
    ];

    /// <param name="remote">Offline, persistent and undefineSource only mean something between hosts: refused for a local migration.</param>
    /// <exception cref="ArgumentException">Every problem found, joined with "; ".</exception>
    public static MigrationOptions Read(IReadOnlyDictionary<string, object> values, bool remote = false)
    {
        var options = new MigrationOptions();
        var errors = new List<string>();
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in All)
        {
            var canonical = ReadOne(values, key.Key, key.Parse, key.Expected, errors);
            var alias = key.Alias is null ? null : ReadOne(values, key.Alias, key.ParseAlias, key.AliasExpected, errors);
            if (canonical is not null && alias is not null && !canonical.Equals(alias))
            {
                errors.Add($"option {key.Key} {BusValues.Describe(values[key.Key])} and its alias {key.Alias} {BusValues.Describe(values[key.Alias!])} disagree: give one");
                continue;
            }
            if ((canonical ?? alias) is { } value)
            {
                options = key.Apply(options, value);
                given.Add(key.Key);
            }
        }
        var known = All.Select(k => k.Key).Concat(All.Where(k => k.Alias is not null).Select(k => k.Alias!)).ToHashSet(StringComparer.Ordinal);
        foreach (var key in values.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal))
            errors.Add($"option {key}: unknown (known: {string.Join(", ", All.Select(k => k.Name))})");
        errors.AddRange(Combinations(options, given, remote));
        if (errors.Count > 0)
            throw new ArgumentException(string.Join("; ", errors));
        return options;
    }

    /// <summary>Combinations QEMU refuses, breaks or silently ignores, and options that need another one.</summary>
    private static IEnumerable<string> Combinations(MigrationOptions o, HashSet<string> given, bool remote)
    {
        string Name(string key) => All.First(k => k.Key == key).Name;
        var multifdBy = o.ParallelConnections > 1 ? $"{Name(Key.ParallelConnections)} {o.ParallelConnections}"
            : o.UsesMtCompression ? $"{Name(Key.CompMethods)} mt (multifd)"
            : o.CompressMtThreads > 1 ? $"{Name(Key.CompMtThreads)} {o.CompressMtThreads} (multifd)"
            : null;
        if (multifdBy is not null && o.Postcopy == true)
            yield return $"option {multifdBy} with {Key.Postcopy}: multifd with postcopy crashes the destination on QEMU 7.2 (QEMU refuses it from 8.1); choose one";
        if (multifdBy is not null && o.UsesXbzrle)
            yield return $"option {multifdBy} with {Name(Key.CompMethods)} xbzrle: QEMU accepts xbzrle with multifd but never uses it; choose one";
        if (o.ParallelConnections is { } channels && o.CompressMtThreads is { } threads && channels != threads)
            yield return $"option {Name(Key.ParallelConnections)} {channels} and {Name(Key.CompMtThreads)} {threads} disagree: multifd compresses on each channel, so threads are channels";
        if (o.Compressed != true)
        {
            foreach (var key in new[] { Key.CompMethods, Key.CompMtAlgorithm, Key.CompMtLevel, Key.CompMtThreads, Key.CompXbzrleCacheMiB }.Where(given.Contains))
                yield return $"option {Name(key)} needs {Key.Compressed} true";
        }
        else
        {
            if (!o.UsesMtCompression)
            {
                foreach (var key in new[] { Key.CompMtAlgorithm, Key.CompMtLevel, Key.CompMtThreads }.Where(given.Contains))
                    yield return $"option {Name(key)} needs {Name(Key.CompMethods)} mt";
            }
            if (!o.UsesXbzrle && given.Contains(Key.CompXbzrleCacheMiB))
                yield return $"option {Name(Key.CompXbzrleCacheMiB)} needs {Name(Key.CompMethods)} xbzrle";
            if (o.CompressMtAlgorithm == MultifdCompression.Zlib && o.CompressMtLevel > 9)
                yield return $"option {Name(Key.CompMtLevel)}: bad value {o.CompressMtLevel} for zlib, expected 0 to 9";
        }
        if (o.Postcopy != true && given.Contains(Key.PostcopyBandwidth))
            yield return $"option {Name(Key.PostcopyBandwidth)} needs {Key.Postcopy} true";
        if (o.Postcopy != true && o.ConvergePolicy == MigrationConvergePolicy.Postcopy)
            yield return $"option {Key.ConvergePolicy} postcopy needs {Key.Postcopy} true (both QEMUs must have postcopy-ram before the migration starts)";
        if (o.CopyStorage != CopyStorage.None && o.IsOffline)
            yield return $"option {Name(Key.CopyStorage)} with {Name(Key.Offline)}: a shut-off domain's disks are files to copy (scp, rsync) before the definition moves";
        // The disks switch while the source holds the guest at pre-switchover; postcopy runs the guest on the destination
        // before every dirty block could be sent, and a failure then would leave no consistent disk anywhere.
        if (o.CopyStorage != CopyStorage.None && o.Postcopy == true)
            yield return $"option {Name(Key.CopyStorage)} with {Key.Postcopy}: the disks switch at the end of the RAM copy, which postcopy skips; choose one";
        if (o.PauseGuest == true && o.AsksForLiveCopy)
            yield return $"option {Key.PauseGuest} true with {LiveOnlyOptions(o)}: those act while the guest runs during the copy, and a paused guest " +
                         "dirties nothing; choose one";
        if (o.IgnoreShared == true && o.Postcopy == true)
            yield return $"option {Key.IgnoreShared} with {Key.Postcopy}: shared RAM is not copied, there is nothing for postcopy to fetch";
        if (!remote)
        {
            foreach (var key in new[] { Key.Offline, Key.Persistent, Key.UndefineSource, Key.CopyStorage }.Where(given.Contains))
                yield return $"option {Name(key)}: only for a migration to another host (--to); a local migration keeps the one definition";
        }
    }

    private static string LiveOnlyOptions(MigrationOptions o) => string.Join(", ", new[]
    {
        o.Postcopy == true ? Key.Postcopy : null,
        o.AutoConverge == true ? Key.AutoConverge : null,
        o.UsesXbzrle ? $"{Key.CompMethods} xbzrle" : null,
        o.ConvergePolicy != MigrationConvergePolicy.Cancel ? Key.ConvergePolicy : null,
        o.ConvergeTimeout is not null ? Key.ConvergeTimeoutSeconds : null,
    }.OfType<string>());

    private static object? ReadOne(IReadOnlyDictionary<string, object> values, string key, Func<object, object?> parse, string expected, List<string> errors)
    {
        if (!values.TryGetValue(key, out var raw))
            return null;
        var value = parse(raw);
        if (value is null)
            errors.Add($"option {key}: bad value {BusValues.Describe(raw)}, expected {expected}");
        return value;
    }

    private static MigrationOptionKey Same(string key, Func<object, object?> parse, string expected, Func<MigrationOptions, object, MigrationOptions> apply) =>
        new(key, null, parse, parse, expected, expected, apply);

    private static MigrationOptionKey Aliased(string key, string alias, Func<object, object?> parse, string expected,
        Func<MigrationOptions, object, MigrationOptions> apply) =>
        new(key, alias, parse, parse, expected, expected, apply);

    /// <summary>Any D-Bus integer type within bounds (Salt and scripts send what their binding picks), as long.</summary>
    private static long? Integer(object value, long min, long max)
    {
        long? n = value switch
        {
            byte b => b, short s => s, ushort s => s, int i => i, uint u => u, long l => l,
            ulong u => u <= long.MaxValue ? (long)u : long.MaxValue,
            _ => null,
        };
        return n >= min && n <= max ? n : null;
    }

    private static object? CompressMethods(object value)
    {
        var names = value switch
        {
            string s => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            string[] list => list,
            _ => null,
        };
        if (names is null || names.Length == 0)
            return null;
        var methods = MigrationCompressMethods.None;
        foreach (var name in names)
        {
            methods |= name.ToLower(CultureInfo.InvariantCulture) switch
            {
                "mt" => MigrationCompressMethods.Mt,
                "xbzrle" => MigrationCompressMethods.Xbzrle,
                _ => (MigrationCompressMethods?)null,
            } ?? (MigrationCompressMethods)(-1);
        }
        return methods < 0 ? null : methods;
    }
}
