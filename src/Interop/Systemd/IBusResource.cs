namespace LocalMigrate.Interop.Systemd;

/// <summary>Something registered with sd-bus that must be released on the bus thread, at the latest when the connection closes.</summary>
internal interface IBusResource
{
    /// <summary>Bus thread only; called exactly once.</summary>
    void Release();
}
