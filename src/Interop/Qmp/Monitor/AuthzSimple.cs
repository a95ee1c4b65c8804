namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary><c>authz-simple</c>: allows exactly one identity (see <see cref="AuthzList"/> for its form).</summary>
public sealed record AuthzSimple : QemuObject
{
    public override string QomType => "authz-simple";

    public required string Identity { get; init; }
}
