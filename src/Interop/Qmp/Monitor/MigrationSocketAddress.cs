namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/sockets.json <c>SocketAddress</c> as query-migrate reports it; inet ports come as strings.</summary>
public sealed record MigrationSocketAddress
{
    public string? Type { get; init; }
    public string? Host { get; init; }
    public string? Port { get; init; }
}
