namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// An incoming call whose handler is still running. It holds a reference on the call message
/// (sd_bus_message_ref(3)) so the reply can be built later on the bus thread: the deferred-reply pattern.
/// </summary>
internal sealed class InFlightCall(IntPtr message, string outSignature)
{
    public IntPtr Message { get; } = message;

    public string OutSignature { get; } = outSignature;
}
