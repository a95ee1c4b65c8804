using System.Text;

namespace LocalMigrate.Interop.Journal;

/// <summary>
/// Turns a Serilog property name into a journal field name: upper case ASCII letters, digits and '_',
/// starting with a letter (a leading '_' marks trusted fields journald would drop), at most 64 characters.
/// Word boundaries become '_': DomainName → DOMAIN_NAME, JobId → JOB_ID, HTTPServer → HTTP_SERVER.
/// https://www.freedesktop.org/software/systemd/man/systemd.journal-fields.html
/// </summary>
internal static class JournalFieldName
{
    private const int MaxLength = 64;

    public static string? From(string propertyName)
    {
        var builder = new StringBuilder(propertyName.Length + 8);
        for (var i = 0; i < propertyName.Length; i++)
        {
            var c = propertyName[i];
            if (!char.IsAsciiLetterOrDigit(c))
            {
                AppendSeparator(builder);
                continue;
            }

            if (char.IsAsciiLetterUpper(c) && i > 0)
            {
                var previous = propertyName[i - 1];
                var nextIsLower = i + 1 < propertyName.Length && char.IsAsciiLetterLower(propertyName[i + 1]);
                if (char.IsAsciiLetterLower(previous) || char.IsAsciiDigit(previous) || (char.IsAsciiLetterUpper(previous) && nextIsLower))
                {
                    AppendSeparator(builder);
                }
            }

            builder.Append(char.ToUpperInvariant(c));
        }

        var name = builder.ToString();
        var start = 0;
        while (start < name.Length && !char.IsAsciiLetter(name[start]))
        {
            start++;
        }

        name = name[start..].TrimEnd('_');
        if (name.Length > MaxLength)
        {
            name = name[..MaxLength].TrimEnd('_');
        }

        return name.Length == 0 ? null : name;
    }

    private static void AppendSeparator(StringBuilder builder)
    {
        if (builder.Length > 0 && builder[^1] != '_')
        {
            builder.Append('_');
        }
    }
}
