using System.Text.Json;

namespace LocalMigrate.UpgradeDaemon.Snapshots;

/// <summary>Parses <c>qemu-img info --output=json</c> (qapi/block-core.json ImageInfo; a raw image has no "snapshots").</summary>
public static class ImageInfoParser
{
    /// <exception cref="FormatException">Not the JSON qemu-img writes; the message names the field.</exception>
    public static ImageInfo Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"qemu-img info: not JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("qemu-img info: the output is not a JSON object");
            var snapshots = new List<ImageSnapshot>();
            if (root.TryGetProperty("snapshots", out var list))
            {
                if (list.ValueKind != JsonValueKind.Array)
                    throw new FormatException("qemu-img info: snapshots is not an array");
                var i = 0;
                foreach (var s in list.EnumerateArray())
                {
                    var at = $"snapshots[{i++}]";
                    var seconds = Number(s, "date-sec", at);
                    var nanoseconds = s.TryGetProperty("date-nsec", out _) ? Number(s, "date-nsec", at) : 0;
                    snapshots.Add(new ImageSnapshot(Text(s, "id", at), Text(s, "name", at),
                        s.TryGetProperty("vm-state-size", out _) ? Number(s, "vm-state-size", at) : 0,
                        DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanoseconds / 100)));
                }
            }
            return new ImageInfo(Text(root, "filename", "image"), Text(root, "format", "image"), snapshots)
            {
                VirtualSize = root.TryGetProperty("virtual-size", out _) ? Number(root, "virtual-size", "image") : 0,
                ActualSize = root.TryGetProperty("actual-size", out _) ? Number(root, "actual-size", "image") : 0,
                BackingFilename = root.TryGetProperty("backing-filename", out _) ? Text(root, "backing-filename", "image") : null,
                BackingFormat = root.TryGetProperty("backing-filename-format", out _) ? Text(root, "backing-filename-format", "image") : null,
            };
        }
    }

    private static string Text(JsonElement element, string field, string at) =>
        element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"qemu-img info: {at}.{field} is missing or not a string");

    private static long Number(JsonElement element, string field, string at) =>
        element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n)
            ? n
            : throw new FormatException($"qemu-img info: {at}.{field} is missing or not an integer");
}
