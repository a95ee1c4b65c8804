namespace LocalMigrate.Interop.Systemd;

/// <summary>Name checks from https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-names.</summary>
internal static class BusNames
{
    public static bool IsValidMember(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 255 && !char.IsAsciiDigit(name[0]) && name.All(IsElementChar);

    public static bool IsValidInterface(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 255)
        {
            return false;
        }

        var elements = name.Split('.');
        return elements.Length >= 2 && elements.All(IsValidMember);
    }

    private static bool IsElementChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
