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
            return value.GetString();
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

    public IReadOnlyList<T> Array<T>(string field, Func<JsonElement, string, T?> parse) where T : class
    {
        if (!TryGet(field, out var value))
            return [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(field, $"must be an array, not {Kind(value)}");
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
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
                errors.Add(new DefinitionError($"{path}.{property.Name}", "unknown field"));
        }
        return true;
    }

    private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant();
}
