namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// Parses <c>localmigrated [--bus system|session|ADDRESS] [--state-dir DIR] [--runtime-dir DIR] [--config FILE]</c>.
/// Small enough that a parser library would be the bigger part; errors name the argument.
/// </summary>
public static class DaemonArgumentParser
{
    public const string DefaultConfigFile = "/etc/localmigrate/localmigrated.json";

    public const string Usage =
        "usage: localmigrated [--bus system|session|ADDRESS] [--state-dir DIR] [--runtime-dir DIR] [--config FILE]";

    /// <exception cref="ArgumentException">The message names the bad argument.</exception>
    public static DaemonArguments Parse(IReadOnlyList<string> args)
    {
        string bus = "system";
        string? state = null, runtime = null, config = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = Split(args[i]);
            string Value()
            {
                if (inline is not null)
                    return inline.Length > 0 ? inline : throw new ArgumentException($"{name}: needs a value");
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new ArgumentException($"{name}: needs a value");
                return args[++i];
            }

            switch (name)
            {
                case "--bus":
                    bus = Value();
                    break;
                case "--state-dir":
                    state = Absolute(name, Value());
                    break;
                case "--runtime-dir":
                    runtime = Absolute(name, Value());
                    break;
                case "--config":
                    config = Absolute(name, Value());
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        return new DaemonArguments(bus, state, runtime, config ?? DefaultConfigFile, config is not null);
    }

    private static (string Name, string? Inline) Split(string arg)
    {
        var eq = arg.IndexOf('=');
        return arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
    }

    private static string Absolute(string name, string value) =>
        Path.IsPathRooted(value) ? value : throw new ArgumentException($"{name}: '{value}' must be an absolute path");
}
