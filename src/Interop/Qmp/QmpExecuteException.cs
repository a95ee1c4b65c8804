using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>QEMU answered a command with an <c>error</c> reply. The connection stays usable.</summary>
public sealed class QmpExecuteException(string command, string errorClass, string description)
    : Exception($"QMP command '{command}' failed: {errorClass}: {description}")
{
    public string Command { get; } = command;

    /// <summary>QEMU's error class, e.g. <c>CommandNotFound</c>, <c>GenericError</c>, <c>DeviceNotActive</c>.</summary>
    public string ErrorClass { get; } = errorClass;

    public string Description { get; } = description;

    /// <summary>From the reply's <c>{"class": ..., "desc": ...}</c>; tolerant, since it only feeds a message.</summary>
    internal static QmpExecuteException FromError(string command, JsonElement error) =>
        new(command, Member(error, "class"), Member(error, "desc"));

    private static string Member(JsonElement error, string name) =>
        error.ValueKind == JsonValueKind.Object
        && error.TryGetProperty(name, out JsonElement value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : "(missing)";
}
