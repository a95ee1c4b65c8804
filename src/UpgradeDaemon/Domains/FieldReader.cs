using System.Text;
using System.Text.Json;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>Typed reads of a JSON object's fields that record an error by path instead of throwing.</summary>
internal sealed class FieldReader(JsonElement obj, string prefix, List<DefinitionError> errors)
{
    private bool TryGet(string field, out JsonElement value)
    {
        if (obj.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null)
            return true;
        return false;
    }

    private void Error(string field, string message) => errors.Add(new DefinitionError(prefix + field, message));

    public string? String(string field)
    {
        if (!TryGet(field, out var value))
            return null;
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            if (text.Length <= DefinitionLimits.MaxStringBytes / 3 || Encoding.UTF8.GetByteCount(text) <= DefinitionLimits.MaxStringBytes)
                return text;
            Error(field, $"{Encoding.UTF8.GetByteCount(text)} bytes long; at most {DefinitionLimits.MaxStringBytes}");
            return null;
        }
        Error(field, $"must be a string, not {Kind(value)}");
        return null;
    }

    public int Int(string field, int fallback, int min, int max)
    {
        if (!TryGet(field, out var value))
            return fallback;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n))
        {
            if (n >= min && n <= max)
                return (int)n;
            Error(field, $"{n} is out of range ({min} to {max})");
            return fallback;
        }
        Error(field, $"must be a whole number, not {Kind(value)}");
        return fallback;
    }

    public bool Bool(string field)
    {
        if (!TryGet(field, out var value))
            return false;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            return value.GetBoolean();
        Error(field, $"must be true or false, not {Kind(value)}");
        return false;
    }

    public string? OneOf(string field, IReadOnlyList<string> allowed)
    {
        var value = String(field);
        if (value is null || allowed.Contains(value))
            return value;
        Error(field, $"'{DomainName.Printable(value)}' is not one of: {string.Join(", ", allowed)}");
        return null;
    }

    public string? AbsolutePath(string field)
    {
        var value = String(field);
        if (value is null)
            return null;
        if (value.Length == 0 || value[0] != '/' || value.Contains('\0') || value.Contains(','))
        {
            // ',' is QEMU's option separator: a path holding it would smuggle options into -drive and friends.
            Error(field, $"'{DomainName.Printable(value)}' must be an absolute path without NUL or ','");
            return null;
        }
        return value;
    }

    /// <param name="max">Checked before any element is parsed, so a huge array costs nothing beyond the document.</param>
    public IReadOnlyList<T> Array<T>(string field, int max, Func<JsonElement, string, T?> parse) where T : class
    {
        if (!TryGet(field, out var value))
            return [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(field, $"must be an array, not {Kind(value)}");
            return [];
        }
        var length = value.GetArrayLength();
        if (length > max)
        {
            Error(field, $"{length} entries; at most {max}");
            return [];
        }
        var result = new List<T>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var parsed = parse(item, $"{prefix}{field}[{index++}]");
            if (parsed is not null)
                result.Add(parsed);
        }
        return result;
    }

    public static bool RequireObject(JsonElement element, string path, HashSet<string> known, List<DefinitionError> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new DefinitionError(path, $"must be an object, not {Kind(element)}"));
            return false;
        }
        CheckKeys(element, path + ".", known, errors);
        return true;
    }

    /// <summary>
    /// Unknown keys and keys given twice, each reported once by path. A duplicate is refused rather than
    /// "last wins": JSON parsers disagree on which copy counts, so the file would not say what the daemon stored.
    /// Names are compared unescaped, so "na\u006de" is the same key as "name".
    /// </summary>
    public static void CheckKeys(JsonElement obj, string prefix, HashSet<string> known, List<DefinitionError> errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            seen[property.Name] = seen.GetValueOrDefault(property.Name) + 1;
            if (seen[property.Name] == 1 && !known.Contains(property.Name))
                errors.Add(new DefinitionError(prefix + property.Name, "unknown field"));
        }
        foreach (var (name, count) in seen)
        {
            if (count > 1)
                errors.Add(new DefinitionError(prefix + name, $"duplicate key '{DomainName.Printable(name)}' ({count} times); a key may appear once"));
        }
    }

    private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant();
}
