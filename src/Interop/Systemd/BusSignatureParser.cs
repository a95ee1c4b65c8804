namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// Splits D-Bus signatures into complete types
/// (https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-signatures).
/// </summary>
internal static class BusSignatureParser
{
    private const string BasicTypes = "ybnqiuxtdsogh";

    public static bool IsBasic(char code) => BasicTypes.Contains(code, StringComparison.Ordinal);

    /// <summary>Basic types of fixed size, which sd_bus_message_read_array(3) can read in one go (not b: 4 bytes on the wire).</summary>
    public static bool IsFixedNumeric(char code) => "ynqiuxtd".Contains(code, StringComparison.Ordinal);

    public static IReadOnlyList<string> Split(string signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Length > 255)
        {
            throw new ArgumentException($"signature '{signature}' is longer than 255", nameof(signature));
        }

        var result = new List<string>();
        var i = 0;
        while (i < signature.Length)
        {
            var end = CompleteTypeEnd(signature, i, 0, 0);
            result.Add(signature[i..end]);
            i = end;
        }

        return result;
    }

    /// <summary>Index just past the complete type starting at <paramref name="start"/>.</summary>
    private static int CompleteTypeEnd(string sig, int start, int arrayDepth, int structDepth)
    {
        if (start >= sig.Length)
        {
            throw Invalid(sig);
        }

        var c = sig[start];
        if (IsBasic(c) || c == 'v')
        {
            return start + 1;
        }

        if (c == 'a')
        {
            if (arrayDepth >= 32)
            {
                throw Invalid(sig);
            }

            if (start + 1 < sig.Length && sig[start + 1] == '{')
            {
                // Dict entry: a basic key and one complete value, only directly inside an array.
                var keyAt = start + 2;
                if (keyAt >= sig.Length || !IsBasic(sig[keyAt]))
                {
                    throw Invalid(sig);
                }

                var valueEnd = CompleteTypeEnd(sig, keyAt + 1, arrayDepth + 1, structDepth + 1);
                if (valueEnd >= sig.Length || sig[valueEnd] != '}')
                {
                    throw Invalid(sig);
                }

                return valueEnd + 1;
            }

            return CompleteTypeEnd(sig, start + 1, arrayDepth + 1, structDepth);
        }

        if (c == '(')
        {
            if (structDepth >= 32)
            {
                throw Invalid(sig);
            }

            var i = start + 1;
            if (i < sig.Length && sig[i] == ')')
            {
                throw Invalid(sig);
            }

            while (i < sig.Length && sig[i] != ')')
            {
                i = CompleteTypeEnd(sig, i, arrayDepth, structDepth + 1);
            }

            if (i >= sig.Length)
            {
                throw Invalid(sig);
            }

            return i + 1;
        }

        throw Invalid(sig);
    }

    private static ArgumentException Invalid(string sig) => new($"'{sig}' is not a valid D-Bus signature");
}
