using System.Text.Json;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>Writes a definition in the same schema <see cref="DefinitionParser"/> reads, every resolved field included.</summary>
public static class DefinitionWriter
{
    public static byte[] ToUtf8Json(DomainDefinition definition)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", definition.SchemaVersion);
            w.WriteString("name", definition.Name);
            w.WriteString("uuid", definition.Uuid.ToString("D"));
            w.WriteNumber("memoryMiB", definition.MemoryMiB);
            w.WriteNumber("vcpus", definition.Vcpus);
            w.WriteString("machine", definition.Machine);
            WriteOptional(w, "accel", definition.Accel);
            WriteOptional(w, "qemu", definition.Qemu);
            WriteOptional(w, "kernel", definition.Kernel);
            WriteOptional(w, "initrd", definition.Initrd);
            WriteOptional(w, "cmdline", definition.Cmdline);
            w.WriteStartArray("disks");
            foreach (var disk in definition.Disks)
            {
                w.WriteStartObject();
                w.WriteString("path", disk.Path);
                w.WriteString("format", disk.Format);
                w.WriteBoolean("readonly", disk.ReadOnly);
                w.WriteBoolean("shared", disk.Shared);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("nics");
            foreach (var nic in definition.Nics)
            {
                w.WriteStartObject();
                w.WriteString("type", nic.Type);
                w.WriteString("model", nic.Model);
                w.WriteString("mac", nic.Mac);
                WriteOptional(w, "bridge", nic.Bridge);
                WriteOptional(w, "tap", nic.Tap);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("memoryBacking", definition.MemoryBacking == MemoryBacking.Shared ? "shared" : "private");
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
            w.WriteString(name, value);
    }
}
