namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/authz.json <c>QAuthZListPolicy</c>.</summary>
public enum AuthzListPolicy
{
    Deny,
    Allow,
}
