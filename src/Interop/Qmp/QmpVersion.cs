namespace LocalMigrate.Interop.Qmp;

/// <summary>The QEMU version from the greeting's <c>QMP.version.qemu</c> member.</summary>
public sealed record QmpVersion(int Major, int Minor, int Micro)
{
    public override string ToString() => $"{Major}.{Minor}.{Micro}";
}
