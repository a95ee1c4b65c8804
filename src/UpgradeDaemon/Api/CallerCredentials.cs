using System.Collections.Concurrent;
using LocalMigrate.Contract.Client;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// The uid behind a caller's unique name, from the bus (org.freedesktop.DBus.GetConnectionUnixUser, one round
/// trip), cached per unique name: unique names are never reused on a bus, and the entry goes when the name
/// leaves the bus (NameOwnerChanged), so the cache holds only connected callers.
/// </summary>
internal sealed class CallerCredentials(DBusConnection bus)
{
    private readonly ConcurrentDictionary<string, uint> _uids = new(StringComparer.Ordinal);

    public async Task StartAsync()
    {
        var rule = new MatchRule
        {
            Type = MessageType.Signal,
            Sender = "org.freedesktop.DBus",
            Interface = "org.freedesktop.DBus",
            Member = "NameOwnerChanged",
        };
        await bus.AddMatchAsync(rule, static (m, _) =>
        {
            var reader = m.GetBodyReader();
            var name = reader.ReadString();
            reader.ReadString();
            return (Name: name, NewOwner: reader.ReadString());
        }, (Notification<(string Name, string NewOwner)> n) =>
        {
            if (n.HasValue && n.Value.NewOwner.Length == 0)
                _uids.TryRemove(n.Value.Name, out _);
        }, emitOnCapturedContext: false).ConfigureAwait(false);
    }

    public int Cached => _uids.Count;

    public async Task<uint> UidOfAsync(string sender)
    {
        if (_uids.TryGetValue(sender, out var uid))
            return uid;
        var message = BusMessages.MethodCall(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixUser", "s",
            (ref MessageWriter w) => w.WriteString(sender));
        uid = await bus.CallMethodAsync(message, static (m, _) => m.GetBodyReader().ReadUInt32()).ConfigureAwait(false);
        _uids[sender] = uid;
        return uid;
    }
}
