namespace LocalMigrate.Contract;

/// <summary>
/// The D-Bus names of org.localmigrate1 (DESIGN.md section 2, contract). One file, compiled into both the
/// daemon and the CLI (linked), so the two can never disagree on a name.
/// </summary>
internal static class BusContract
{
    public const string ServiceName = "org.localmigrate1";
    public const string ManagerPath = "/org/localmigrate1";
    public const string DomainPathPrefix = "/org/localmigrate1/domain/";
    public const string JobPathPrefix = "/org/localmigrate1/job/";
    public const string ManagerInterface = "org.localmigrate1.Manager";
    public const string DomainInterface = "org.localmigrate1.Domain";
    public const string JobInterface = "org.localmigrate1.Job";
    public const string PropertiesInterface = "org.freedesktop.DBus.Properties";
    public const string ObjectManagerInterface = "org.freedesktop.DBus.ObjectManager";

    /// <summary>Errors are D-Bus error names under this prefix.</summary>
    public static class Errors
    {
        public const string AccessDenied = "org.localmigrate1.Error.AccessDenied";
        public const string NoSuchDomain = "org.localmigrate1.Error.NoSuchDomain";
        public const string NoSuchJob = "org.localmigrate1.Error.NoSuchJob";
        public const string InvalidArgument = "org.localmigrate1.Error.InvalidArgument";
        public const string InvalidDefinition = "org.localmigrate1.Error.InvalidDefinition";
        public const string Exists = "org.localmigrate1.Error.Exists";
        public const string Busy = "org.localmigrate1.Error.Busy";
        public const string StartFailed = "org.localmigrate1.Error.StartFailed";
        public const string StateWriteFailed = "org.localmigrate1.Error.StateWriteFailed";
        public const string Failed = "org.localmigrate1.Error.Failed";
    }

    /// <summary>Keys of the a{sv} options of Domain.Migrate and Manager.Upgrade.</summary>
    public static class MigrateOptions
    {
        public const string TargetBinary = "targetBinary";
        public const string MaxBandwidth = "maxBandwidth";
        public const string DowntimeLimitMs = "downtimeLimitMs";
        public const string IgnoreShared = "ignoreShared";
        public const string TimeoutSeconds = "timeoutSeconds";
    }

    /// <summary>
    /// The object path of a domain: its name escaped like sd_bus_path_encode(3) (every byte outside
    /// [A-Za-z0-9] as _xx), so any valid domain name is a valid path element.
    /// </summary>
    public static string DomainPath(string name) => DomainPathPrefix + EscapeLabel(name);

    public static string JobPath(string id) => JobPathPrefix + EscapeLabel(id);

    public static string EscapeLabel(string label)
    {
        if (label.Length == 0)
            return "_";
        var sb = new System.Text.StringBuilder(label.Length * 2);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(label))
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' && !(sb.Length == 0 && b is >= (byte)'0' and <= (byte)'9'))
                sb.Append((char)b);
            else
                sb.Append('_').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
