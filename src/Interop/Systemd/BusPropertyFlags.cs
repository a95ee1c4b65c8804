namespace LocalMigrate.Interop.Systemd;

/// <summary>Property flags, mapped onto SD_BUS_VTABLE_* in sd_bus_add_object_vtable(3).</summary>
[Flags]
public enum BusPropertyFlags
{
    None = 0,

    /// <summary>Value never changes (SD_BUS_VTABLE_PROPERTY_CONST).</summary>
    Const = 1 << 0,

    /// <summary>PropertiesChanged carries the new value (SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE).</summary>
    EmitsChange = 1 << 1,

    /// <summary>PropertiesChanged lists the name only (SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION).</summary>
    EmitsInvalidation = 1 << 2,

    /// <summary>Left out of GetAll (SD_BUS_VTABLE_PROPERTY_EXPLICIT).</summary>
    Explicit = 1 << 3,

    /// <summary>Left out of introspection (SD_BUS_VTABLE_HIDDEN).</summary>
    Hidden = 1 << 4,

    /// <summary>Marked deprecated in introspection (SD_BUS_VTABLE_DEPRECATED).</summary>
    Deprecated = 1 << 5,
}
