using System.Text;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Introspection XML of the standard interfaces the daemon serves itself (Peer and Introspectable are added by
/// Tmds.DBus.Protocol). Text as in the D-Bus specification, "Standard Interfaces".
/// </summary>
internal static class StandardInterfaces
{
    public static readonly ReadOnlyMemory<byte> Properties = Encoding.UTF8.GetBytes("""
         <interface name="org.freedesktop.DBus.Properties">
          <method name="Get">
           <arg name="interface_name" type="s" direction="in"/>
           <arg name="property_name" type="s" direction="in"/>
           <arg name="value" type="v" direction="out"/>
          </method>
          <method name="GetAll">
           <arg name="interface_name" type="s" direction="in"/>
           <arg name="props" type="a{sv}" direction="out"/>
          </method>
          <method name="Set">
           <arg name="interface_name" type="s" direction="in"/>
           <arg name="property_name" type="s" direction="in"/>
           <arg name="value" type="v" direction="in"/>
          </method>
          <signal name="PropertiesChanged">
           <arg name="interface_name" type="s"/>
           <arg name="changed_properties" type="a{sv}"/>
           <arg name="invalidated_properties" type="as"/>
          </signal>
         </interface>

        """);

    public static readonly ReadOnlyMemory<byte> ObjectManager = Encoding.UTF8.GetBytes("""
         <interface name="org.freedesktop.DBus.ObjectManager">
          <method name="GetManagedObjects">
           <arg name="object_paths_interfaces_and_properties" type="a{oa{sa{sv}}}" direction="out"/>
          </method>
          <signal name="InterfacesAdded">
           <arg name="object_path" type="o"/>
           <arg name="interfaces_and_properties" type="a{sa{sv}}"/>
          </signal>
          <signal name="InterfacesRemoved">
           <arg name="object_path" type="o"/>
           <arg name="interfaces" type="as"/>
          </signal>
         </interface>

        """);
}
