using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Journal;

/// <summary>struct iovec from sys/uio.h, as sd_journal_sendv(3) takes it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}
