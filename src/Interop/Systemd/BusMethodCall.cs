namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// An incoming method call, fully read on the bus thread before the handler runs.
/// Value mapping: s→string, o→<see cref="BusObjectPath"/>, g→string, y/b/n/q/i/u/x/t/d→byte/bool/short/
/// ushort/int/uint/long/ulong/double, h→int (the fd number, valid only while the handler is queued; dup it),
/// a of a basic type→typed array (string[], int[], BusObjectPath[], ...), a{s…}→IReadOnlyDictionary&lt;string, object&gt;,
/// other dictionaries→IReadOnlyDictionary&lt;object, object&gt;, other arrays→object[], structs→object[],
/// v→the plain contained value.
/// </summary>
public sealed record BusMethodCall(
    string Path,
    string Interface,
    string Member,
    string Sender,
    uint SenderUid,
    string Signature,
    IReadOnlyList<object> Args);
