using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Every PropertiesChanged the daemon sends under a path namespace, as a test's own bus client sees it.</summary>
internal sealed class PropertiesChangedRecorder : IDisposable
{
    private readonly DBusConnection _bus;
    private readonly List<(string Path, Dictionary<string, VariantValue> Changed, string[] Invalidated)> _seen = [];
    private IDisposable? _match;

    private PropertiesChangedRecorder(DBusConnection bus) => _bus = bus;

    public static async Task<PropertiesChangedRecorder> StartAsync(string address, string pathNamespace)
    {
        var bus = new DBusConnection(address);
        await bus.ConnectAsync();
        var recorder = new PropertiesChangedRecorder(bus);
        var rule = new MatchRule
        {
            Type = MessageType.Signal, Interface = BusContract.PropertiesInterface, Member = "PropertiesChanged", PathNamespace = pathNamespace,
        };
        recorder._match = await bus.AddMatchAsync(rule, static (m, _) =>
        {
            var reader = m.GetBodyReader();
            reader.ReadString();
            return (Path: m.PathAsString!, Changed: reader.ReadDictionaryOfStringToVariantValue(), Invalidated: reader.ReadArrayOfString());
        }, (Notification<(string Path, Dictionary<string, VariantValue> Changed, string[] Invalidated)> n) =>
        {
            if (!n.HasValue)
                return;
            lock (recorder._seen)
                recorder._seen.Add(n.Value);
        }, emitOnCapturedContext: false);
        return recorder;
    }

    /// <summary>Values of <paramref name="property"/> in the order they were announced, for objects under <paramref name="pathPrefix"/>.</summary>
    public List<VariantValue> Values(string pathPrefix, string property)
    {
        lock (_seen)
            return _seen.Where(s => s.Path.StartsWith(pathPrefix, StringComparison.Ordinal) && s.Changed.ContainsKey(property))
                .Select(s => s.Changed[property]).ToList();
    }

    public bool Invalidated(string pathPrefix, string property)
    {
        lock (_seen)
            return _seen.Any(s => s.Path.StartsWith(pathPrefix, StringComparison.Ordinal) && s.Invalidated.Contains(property));
    }

    public void Dispose()
    {
        _match?.Dispose();
        _bus.Dispose();
    }
}
