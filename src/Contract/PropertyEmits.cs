namespace LocalMigrate.Contract;

/// <summary>
/// The org.freedesktop.DBus.Property.EmitsChangedSignal annotation of a property (D-Bus specification,
/// "Standard Interfaces"): what a client may rely on to keep its copy of the value current.
/// </summary>
public enum PropertyEmits
{
    /// <summary>PropertiesChanged carries the new value (the annotation's default, so not written).</summary>
    Value,

    /// <summary>PropertiesChanged names the property as invalidated; the client reads it again when it needs it.</summary>
    Invalidates,

    /// <summary>Never changes for the object's lifetime.</summary>
    Const,
}
