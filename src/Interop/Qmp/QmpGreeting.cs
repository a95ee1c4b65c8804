using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>The first message QEMU sends: <c>{"QMP": {"version": ..., "capabilities": [...]}}</c>.</summary>
public sealed record QmpGreeting(QmpVersion Version, string Package, IReadOnlyList<string> Capabilities)
{
    private const string Context = "QMP greeting";

    internal static QmpGreeting Parse(JsonElement message)
    {
        JsonElement qmp = QmpJson.RequireObject(message, "QMP", Context);
        JsonElement version = QmpJson.RequireObject(qmp, "version", Context);
        JsonElement qemu = QmpJson.RequireObject(version, "qemu", Context);
        if (!qmp.TryGetProperty("capabilities", out JsonElement capabilities)
            || capabilities.ValueKind != JsonValueKind.Array
            || capabilities.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
        {
            throw new QmpProtocolException($"{Context}: 'capabilities' is not an array of strings");
        }

        return new QmpGreeting(
            new QmpVersion(
                QmpJson.RequireInt32(qemu, "major", Context),
                QmpJson.RequireInt32(qemu, "minor", Context),
                QmpJson.RequireInt32(qemu, "micro", Context)),
            QmpJson.RequireString(version, "package", Context),
            capabilities.EnumerateArray().Select(c => c.GetString()!).ToArray());
    }
}
