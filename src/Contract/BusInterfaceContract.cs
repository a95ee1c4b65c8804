using System.Security;
using System.Text;

namespace LocalMigrate.Contract;

/// <summary>
/// One interface of org.localmigrate1: its methods and properties. The daemon dispatches and validates calls with
/// it and serves its introspection XML; the checked-in XML under Introspection/ must equal <see cref="ToIntrospectionXml"/>
/// (a test compares both with a running daemon), so every API change is a visible diff.
/// </summary>
public sealed record BusInterfaceContract(string Name, IReadOnlyList<BusMethod> Methods, IReadOnlyList<BusProperty> Properties)
{
    public BusMethod? FindMethod(string name) => Methods.FirstOrDefault(m => m.Name == name);

    public BusProperty? FindProperty(string name) => Properties.FirstOrDefault(p => p.Name == name);

    /// <summary>The &lt;interface&gt; element, in the layout of the files under Introspection/.</summary>
    public string ToIntrospectionXml()
    {
        var xml = new StringBuilder();
        xml.Append(" <interface name=\"").Append(Name).Append("\">\n");
        foreach (var method in Methods)
        {
            if (method.In.Count + method.Out.Count == 0)
            {
                xml.Append("  <method name=\"").Append(method.Name).Append("\"/>\n");
                continue;
            }
            xml.Append("  <method name=\"").Append(method.Name).Append("\">\n");
            foreach (var arg in method.In)
                Argument(xml, arg, "in");
            foreach (var arg in method.Out)
                Argument(xml, arg, "out");
            xml.Append("  </method>\n");
        }
        foreach (var property in Properties)
        {
            xml.Append("  <property name=\"").Append(property.Name).Append("\" type=\"").Append(Escape(property.Signature)).Append("\" access=\"read\"");
            if (property.Emits == PropertyEmits.Value)
            {
                xml.Append("/>\n");
                continue;
            }
            xml.Append(">\n   <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" value=\"")
                .Append(property.Emits == PropertyEmits.Const ? "const" : "invalidates").Append("\"/>\n  </property>\n");
        }
        xml.Append(" </interface>\n");
        return xml.ToString();
    }

    private static void Argument(StringBuilder xml, BusArgument arg, string direction) =>
        xml.Append("   <arg name=\"").Append(arg.Name).Append("\" type=\"").Append(Escape(arg.Signature)).Append("\" direction=\"").Append(direction).Append("\"/>\n");

    private static string Escape(string text) => SecurityElement.Escape(text);
}
