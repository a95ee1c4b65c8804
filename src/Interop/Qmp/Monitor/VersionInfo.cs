namespace LocalMigrate.Interop.Qmp.Monitor;

/// <summary><c>query-version</c> (qapi/control.json <c>VersionInfo</c>).</summary>
/// <param name="Package">The distribution's build string, e.g. " (Debian 1:7.2+dfsg-7+deb12u18)".</param>
public sealed record VersionInfo(QmpVersion Qemu, string Package);
