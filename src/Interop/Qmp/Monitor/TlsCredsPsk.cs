namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>
/// <c>tls-creds-psk</c>: TLS with a pre-shared key read from <c>keys.psk</c> in <see cref="Dir"/> (lines of
/// <c>username:hexkey</c>). The client sends <see cref="Username"/> (QEMU's default "qemu") and uses that line's key;
/// the server looks the client's username up in its own file.
/// </summary>
public sealed record TlsCredsPsk : QemuObject
{
    public override string QomType => "tls-creds-psk";

    public required string Dir { get; init; }

    public required TlsCredsEndpoint Endpoint { get; init; }

    /// <summary>Client only.</summary>
    public string? Username { get; init; }
}
