using System.Text.Json;
using System.Text.Json.Serialization;
using LocalMigrate.Interop.Posix;

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

    /// <summary>
    /// Replaces instance.json atomically, without fsync: the record describes a live process, so it must outlive the
    /// daemon, never the host (the runtime dir is a tmpfs on a real host, emptied at boot). Three of these writes
    /// stand in the path of every migration's Prepare.
    /// </summary>
    public static void Write(string path, InstanceRecord record) =>
        AtomicFile.WriteAllBytes(path, Serialize(record), FileDurability.SurvivesProcessCrash);

    public static InstanceRecord Deserialize(byte[] json) =>
        JsonSerializer.Deserialize<InstanceRecord>(json, Options) ?? throw new JsonException("instance.json is null");
}
