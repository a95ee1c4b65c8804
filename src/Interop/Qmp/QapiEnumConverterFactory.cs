using System.Text.Json;
using System.Text.Json.Serialization;

namespace LocalMigrate.Interop.Qmp;

/// <summary>Every enum as its QAPI string (<see cref="QapiEnum"/>); unknown values read as <c>Unknown</c>, never a throw.</summary>
internal sealed class QapiEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<TEnum> : JsonConverter<TEnum> where TEnum : struct, Enum
    {
        public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException($"QAPI {typeof(TEnum).Name}: expected a string, got {reader.TokenType}");
            }
            string? value = reader.GetString();
            return QapiEnum.Names<TEnum>.TryParse(value, out TEnum member)
                ? member
                : throw new JsonException($"QAPI {typeof(TEnum).Name}: unknown value '{value}'");
        }

        public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToQapiString());
    }
}
