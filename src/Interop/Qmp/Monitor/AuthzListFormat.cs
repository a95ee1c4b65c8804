namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/authz.json <c>QAuthZListFormat</c>: how a rule's <c>match</c> is compared with the identity.</summary>
public enum AuthzListFormat
{
    Exact,
    Glob,
}
