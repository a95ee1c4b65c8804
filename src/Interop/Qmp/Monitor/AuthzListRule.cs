namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary>qapi/authz.json <c>QAuthZListRule</c>.</summary>
public sealed record AuthzListRule(string Match, AuthzListPolicy Policy, AuthzListFormat? Format = null);
