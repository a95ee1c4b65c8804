namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>An older Debian build of QEMU unpacked beside the installed one: the real upgrade case.</summary>
internal static class OldQemu
{
    public const string Version = "1:7.2+dfsg-7+deb12u15";

    private static readonly Lazy<string> Binary = new(() => ScriptRunner.RunForLastLine("tests/guest/fetch-qemu.sh", Version));

    public static string Path => Binary.Value;
}
