namespace LocalMigrate.Interop.Systemd;

/// <summary>A D-Bus object path (type code <c>o</c>), kept distinct from strings so it round-trips as <c>o</c>.</summary>
public sealed record BusObjectPath
{
    public BusObjectPath(string value)
    {
        if (!IsValid(value))
        {
            throw new ArgumentException($"'{value}' is not a valid D-Bus object path", nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    public override string ToString() => Value;

    /// <summary>https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-marshaling-object-path</summary>
    public static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value[0] != '/')
        {
            return false;
        }

        if (value.Length == 1)
        {
            return true;
        }

        if (value[^1] == '/')
        {
            return false;
        }

        for (var i = 1; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '/')
            {
                if (value[i - 1] == '/')
                {
                    return false;
                }
            }
            else if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
