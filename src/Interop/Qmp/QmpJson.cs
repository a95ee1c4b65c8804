using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LocalMigrate.Interop.Qmp;

/// <summary>JSON conventions of QAPI, and small helpers for reading QEMU's messages.</summary>
internal static class QmpJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Stands in for an absent event <c>data</c> member so callers can always probe it.</summary>
    public static JsonElement EmptyObject { get; } = JsonDocument.Parse("{}").RootElement.Clone();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            // QAPI member and enum names are lower-case with dashes: "downtime-limit", "postcopy-active".
            PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
            // An optional QAPI argument must be left out: QEMU rejects null for most member types.
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        // Kebab-case strings both ways; a value a newer QEMU added reads as the enum's Unknown member.
        options.Converters.Add(new QapiEnumConverterFactory());
        // Shared by every client; freezing it stops one caller from changing another's wire format.
        options.MakeReadOnly();
        return options;
    }

    /// <summary>The start of a message, for error texts that must stay readable.</summary>
    public static string Excerpt(JsonElement message)
    {
        const int Limit = 200;
        string text = message.GetRawText();
        return text.Length <= Limit ? text : string.Concat(text.AsSpan(0, Limit), "...");
    }

    /// <summary>Unlike JsonElement.TryGetInt64, false rather than a throw for a non-number.</summary>
    public static bool TryGetInt64(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }

    public static JsonElement RequireObject(JsonElement parent, string name, string context) =>
        Require(parent, name, JsonValueKind.Object, context);

    public static string RequireString(JsonElement parent, string name, string context) =>
        Require(parent, name, JsonValueKind.String, context).GetString()!;

    public static int RequireInt32(JsonElement parent, string name, string context) =>
        Require(parent, name, JsonValueKind.Number, context).TryGetInt32(out int value)
            ? value
            : throw new QmpProtocolException($"{context}: '{name}' is not a 32-bit integer");

    private static JsonElement Require(JsonElement parent, string name, JsonValueKind kind, string context)
    {
        if (parent.ValueKind != JsonValueKind.Object
            || !parent.TryGetProperty(name, out JsonElement value)
            || value.ValueKind != kind)
        {
            throw new QmpProtocolException($"{context}: expected member '{name}' of kind {kind}");
        }
        return value;
    }
}
