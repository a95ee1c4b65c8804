using System.Collections.Concurrent;
using System.Text;
using LocalMigrate.Contract;
using Microsoft.Extensions.Logging;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Every object of the daemon behind one handler at "/" (Tmds.DBus.Protocol routes all paths to it): it answers what
/// sd-bus answered before it: UnknownObject for a path that is neither an object nor above one, UnknownMethod for a
/// member no interface has, InvalidArgs for a signature the contract does not name, Properties (Set refused as
/// read-only), Introspectable with child nodes, and ObjectManager at the manager. A method runs after the reader has
/// moved on (the context is disposed asynchronously), so a long call never holds up another; whatever it throws
/// becomes an error reply for that call.
/// </summary>
internal sealed partial class BusObjectTree(ILogger logger) : IPathMethodHandler
{
    private readonly ConcurrentDictionary<string, ExportedObject> _objects = new(StringComparer.Ordinal);

    public string Path => "/";

    public bool HandlesChildPaths => true;

    public int Count => _objects.Count;

    public bool Add(ExportedObject exported) => _objects.TryAdd(exported.Path, exported);

    public bool Remove(string path, out ExportedObject? removed) => _objects.TryRemove(path, out removed);

    public ExportedObject? Find(string path) => _objects.GetValueOrDefault(path);

    public IEnumerable<ExportedObject> Below(string path) =>
        _objects.Values.Where(o => o.Path.StartsWith(path + "/", StringComparison.Ordinal));

    public ValueTask HandleMethodAsync(MethodContext context)
    {
        var request = context.Request;
        var path = request.PathAsString ?? "/";
        var interfaceName = request.InterfaceAsString;
        var member = request.MemberAsString ?? "";
        var signature = request.SignatureAsString ?? "";
        var exported = _objects.GetValueOrDefault(path);

        if (context.IsDBusIntrospectRequest)
        {
            Introspect(context, path, exported);
            return ValueTask.CompletedTask;
        }
        if (exported is null)
        {
            context.ReplyError(BusContract.StandardErrors.UnknownObject, $"Unknown object '{path}'.");
            return ValueTask.CompletedTask;
        }
        if (context.IsPropertiesInterfaceRequest)
        {
            ServeProperties(context, exported, member, signature);
            return ValueTask.CompletedTask;
        }
        if (interfaceName == BusContract.ObjectManagerInterface && member == "GetManagedObjects" && path == BusContract.ManagerPath)
        {
            ReplyManagedObjects(context);
            return ValueTask.CompletedTask;
        }
        var contract = exported.Interface.Contract;
        var method = interfaceName is null || interfaceName == contract.Name ? contract.FindMethod(member) : null;
        if (method is null)
        {
            context.ReplyError(BusContract.StandardErrors.UnknownMethod, $"Unknown method {member} or interface {interfaceName}.");
            return ValueTask.CompletedTask;
        }
        if (signature != method.InSignature)
        {
            context.ReplyError(BusContract.StandardErrors.InvalidArgs,
                $"Invalid arguments '{signature}' to call {contract.Name}.{member}(), expecting '{method.InSignature}'.");
            return ValueTask.CompletedTask;
        }
        var call = new BusCall(request.SenderAsString ?? "", member, BusValues.ReadArguments(request, signature));
        context.DisposesAsynchronously = true;
        _ = RunAsync(context, method, exported.Interface.Handler(method), call);
        return ValueTask.CompletedTask;
    }

    private async Task RunAsync(MethodContext context, BusMethod method, MethodHandler handler, BusCall call)
    {
        try
        {
            var values = await handler(call).ConfigureAwait(false);
            Reply(context, method.OutSignature, values);
        }
        catch (Exception e)
        {
            var error = ApiErrors.From(e);
            if (error.ErrorName == BusContract.Errors.Failed)
                LogHandlerFailed(method.Interface, method.Name, e);
            context.ReplyError(error.ErrorName, error.Message);
        }
        finally
        {
            context.Dispose();
        }
    }

    private static void Reply(MethodContext context, string signature, object?[] values)
    {
        if (context.NoReplyExpected)
            return;
        var writer = context.CreateReplyWriter(signature.Length == 0 ? null : signature);
        try
        {
            BusValues.WriteValues(ref writer, signature, values);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    private void Introspect(MethodContext context, string path, ExportedObject? exported)
    {
        var children = ChildNames(path);
        if (exported is null && children.Count == 0 && path != "/")
        {
            context.ReplyError(BusContract.StandardErrors.UnknownObject, $"Unknown object '{path}'.");
            return;
        }
        if (exported is null)
        {
            context.ReplyIntrospectXml([], children);
            return;
        }
        var own = Encoding.UTF8.GetBytes(exported.Interface.Contract.ToIntrospectionXml());
        ReadOnlyMemory<byte>[] interfaces = path == BusContract.ManagerPath
            ? [StandardInterfaces.Properties, StandardInterfaces.ObjectManager, own]
            : [StandardInterfaces.Properties, own];
        context.ReplyIntrospectXml(interfaces, children);
    }

    private List<string> ChildNames(string path)
    {
        var prefix = path == "/" ? "/" : path + "/";
        return _objects.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal))
            .Select(p => p[prefix.Length..].Split('/')[0]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private static void ServeProperties(MethodContext context, ExportedObject exported, string member, string signature)
    {
        var request = context.Request;
        var expected = member switch { "Get" => "ss", "GetAll" => "s", "Set" => "ssv", _ => null };
        if (expected is null)
        {
            context.ReplyError(BusContract.StandardErrors.UnknownMethod, $"Unknown method {member} or interface {BusContract.PropertiesInterface}.");
            return;
        }
        if (signature != expected)
        {
            context.ReplyError(BusContract.StandardErrors.InvalidArgs,
                $"Invalid arguments '{signature}' to call {BusContract.PropertiesInterface}.{member}(), expecting '{expected}'.");
            return;
        }
        var reader = request.GetBodyReader();
        var interfaceName = reader.ReadString();
        var contract = exported.Interface.Contract;
        if (interfaceName != contract.Name)
        {
            if (member == "GetAll" && interfaceName.StartsWith("org.freedesktop.DBus.", StringComparison.Ordinal))
            {
                ReplyProperties(context, exported, []);
                return;
            }
            context.ReplyError(BusContract.StandardErrors.UnknownInterface, $"Unknown interface '{interfaceName}'.");
            return;
        }
        if (member == "GetAll")
        {
            ReplyProperties(context, exported, contract.Properties);
            return;
        }
        var name = reader.ReadString();
        var property = contract.FindProperty(name);
        if (property is null)
        {
            context.ReplyError(BusContract.StandardErrors.UnknownProperty, $"Unknown property '{name}' on interface {interfaceName}.");
            return;
        }
        if (member == "Set")
        {
            context.ReplyError(BusContract.StandardErrors.PropertyReadOnly, $"Property '{name}' is not writable.");
            return;
        }
        var writer = context.CreateReplyWriter("v");
        try
        {
            writer.WriteVariant(exported.Interface.Read(property));
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static void ReplyProperties(MethodContext context, ExportedObject exported, IReadOnlyList<BusProperty> properties)
    {
        var writer = context.CreateReplyWriter("a{sv}");
        try
        {
            WriteProperties(ref writer, exported, properties);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    public static void WriteProperties(ref MessageWriter writer, ExportedObject exported, IReadOnlyList<BusProperty> properties)
    {
        var start = writer.WriteDictionaryStart();
        foreach (var property in properties)
        {
            writer.WriteDictionaryEntryStart();
            writer.WriteString(property.Name);
            writer.WriteVariant(exported.Interface.Read(property));
        }
        writer.WriteDictionaryEnd(start);
    }

    /// <summary>a{sa{sv}}: the object's interface with all its properties (InterfacesAdded, GetManagedObjects).</summary>
    public static void WriteInterfaces(ref MessageWriter writer, ExportedObject exported)
    {
        var start = writer.WriteDictionaryStart();
        writer.WriteDictionaryEntryStart();
        writer.WriteString(exported.Interface.Contract.Name);
        WriteProperties(ref writer, exported, exported.Interface.Contract.Properties);
        writer.WriteDictionaryEnd(start);
    }

    private void ReplyManagedObjects(MethodContext context)
    {
        var writer = context.CreateReplyWriter("a{oa{sa{sv}}}");
        try
        {
            var start = writer.WriteDictionaryStart();
            foreach (var exported in Below(BusContract.ManagerPath).OrderBy(o => o.Path, StringComparer.Ordinal))
            {
                writer.WriteDictionaryEntryStart();
                writer.WriteObjectPath(exported.Path);
                WriteInterfaces(ref writer, exported);
            }
            writer.WriteDictionaryEnd(start);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Interface}.{Member} failed")]
    private partial void LogHandlerFailed(string @interface, string member, Exception exception);
}
