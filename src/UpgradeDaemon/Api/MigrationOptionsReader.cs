using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>Reads the a{sv} options of Migrate/Upgrade; an unknown key or a wrong type is an error naming the key.</summary>
internal static class MigrationOptionsReader
{
    public static MigrationOptions Read(IReadOnlyDictionary<string, object> values)
    {
        var options = new MigrationOptions();
        var errors = new List<string>();
        foreach (var (key, value) in values)
        {
            switch (key, value)
            {
                case (BusContract.MigrateOptions.TargetBinary, string path) when Path.IsPathRooted(path):
                    options = options with { TargetBinary = path };
                    break;
                case (BusContract.MigrateOptions.MaxBandwidth, ulong n) when n > 0:
                    options = options with { MaxBandwidth = (long)Math.Min(n, (ulong)MigrationOptions.UnlimitedBandwidth) };
                    break;
                case (BusContract.MigrateOptions.DowntimeLimitMs, uint ms) when ms is > 0 and <= 2_000_000:
                    options = options with { DowntimeLimitMs = (int)ms };
                    break;
                case (BusContract.MigrateOptions.IgnoreShared, bool b):
                    options = options with { IgnoreShared = b };
                    break;
                case (BusContract.MigrateOptions.TimeoutSeconds, uint s) when s is > 0 and <= 86_400:
                    options = options with { Timeout = TimeSpan.FromSeconds(s) };
                    break;
                case (BusContract.MigrateOptions.TargetBinary or BusContract.MigrateOptions.MaxBandwidth or BusContract.MigrateOptions.DowntimeLimitMs
                    or BusContract.MigrateOptions.IgnoreShared or BusContract.MigrateOptions.TimeoutSeconds, _):
                    errors.Add($"option {key}: bad value {BusValues.Describe(value)}, expected {Expected(key)}");
                    break;
                default:
                    errors.Add($"option {key}: unknown (known: {BusContract.MigrateOptions.TargetBinary}, {BusContract.MigrateOptions.MaxBandwidth}, " +
                               $"{BusContract.MigrateOptions.DowntimeLimitMs}, {BusContract.MigrateOptions.IgnoreShared}, {BusContract.MigrateOptions.TimeoutSeconds})");
                    break;
            }
        }
        if (errors.Count > 0)
            throw new ArgumentException(string.Join("; ", errors));
        return options;
    }

    private static string Expected(string key) => key switch
    {
        BusContract.MigrateOptions.TargetBinary => "an absolute path, type s",
        BusContract.MigrateOptions.MaxBandwidth => "bytes per second > 0, type t",
        BusContract.MigrateOptions.DowntimeLimitMs => "milliseconds 1 to 2000000, type u",
        BusContract.MigrateOptions.IgnoreShared => "type b",
        _ => "seconds 1 to 86400, type u",
    };
}
