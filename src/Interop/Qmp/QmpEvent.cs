using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// An asynchronous QMP event. <see cref="Data"/> is a detached clone, and an empty object when QEMU
/// sent no <c>data</c> (STOP, RESUME, ...), so callers can probe it without checking its kind.
/// <see cref="Timestamp"/> is QEMU's wall clock at emission, the Unix epoch if QEMU had none.
/// </summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp)
{
    private const string Context = "QMP event";

    internal static QmpEvent Parse(JsonElement message)
    {
        string name = QmpJson.RequireString(message, "event", Context);
        JsonElement data = message.TryGetProperty("data", out JsonElement d) ? d.Clone() : QmpJson.EmptyObject;
        return new QmpEvent(name, data, ParseTimestamp(message));
    }

    // {"seconds": S, "microseconds": U}; QEMU sends -1/-1 if it could not read the clock.
    private static DateTimeOffset ParseTimestamp(JsonElement message)
    {
        if (!message.TryGetProperty("timestamp", out JsonElement ts)
            || ts.ValueKind != JsonValueKind.Object
            || !ts.TryGetProperty("seconds", out JsonElement s) || !QmpJson.TryGetInt64(s, out long seconds)
            || !ts.TryGetProperty("microseconds", out JsonElement u) || !QmpJson.TryGetInt64(u, out long micros)
            || seconds < 0 || micros < 0)
        {
            return DateTimeOffset.UnixEpoch;
        }
        return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * TimeSpan.TicksPerMicrosecond);
    }
}
