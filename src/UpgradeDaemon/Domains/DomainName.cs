using System.Text.RegularExpressions;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// The rule for a domain name. The name becomes part of paths (runtime dir, console log, D-Bus object path),
/// so it is a strict whitelist: no '/', no NUL, no leading '.' or '-' (hidden files, "..", option-like names).
/// </summary>
public static partial class DomainName
{
    public const string Rule = "1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-'";

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public static void Validate(string? name, string argument = "name")
    {
        if (!IsValid(name))
            throw new ArgumentException($"{argument}: '{Printable(name)}' is not a valid domain name ({Rule})", argument);
    }

    /// <summary>Shows control characters such as NUL in an error message instead of cutting it.</summary>
    public static string Printable(string? value) =>
        value is null ? "(null)" : string.Concat(value.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
}
