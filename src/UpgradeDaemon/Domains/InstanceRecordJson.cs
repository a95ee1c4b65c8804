using System.Text.Json;
using System.Text.Json.Serialization;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>The JSON form of <see cref="InstanceRecord"/> (camelCase, roles as lowercase strings).</summary>
public static class InstanceRecordJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static byte[] Serialize(InstanceRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, Options);

    public static InstanceRecord Deserialize(byte[] json) =>
        JsonSerializer.Deserialize<InstanceRecord>(json, Options) ?? throw new JsonException("instance.json is null");
}
