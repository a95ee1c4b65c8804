namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// QEMU 10.0 from Debian's bookworm-backports, unpacked beside the installed 7.2 (tests/guest/fetch-qemu.sh adds the
/// suite): the major upgrade users actually face.
/// </summary>
internal static class NewQemu
{
    public const string Version = "1:10.0.2+ds-2+deb13u1~bpo12+1";
    public const string Suite = "bookworm-backports";

    private static readonly Lazy<string> Binary = new(() => ScriptRunner.RunForLastLine("tests/guest/fetch-qemu.sh", Version, Suite));

    public static string Path => Binary.Value;

    /// <summary>The unpacked tree (its usr/ holds bin, lib and share): the binary finds modules and firmware relative to itself.</summary>
    public static string Tree => System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "..", ".."));
}
