using System.Runtime.InteropServices;

namespace LocalMigrate.Interop.Journal;

/// <summary>sd_journal_sendv(3): native journal fields (Serilog.Sinks.Journald is not served here). Thread-safe in libsystemd.</summary>
internal static unsafe partial class SdJournal
{
    private const string Lib = "libsystemd.so.0";

    [LibraryImport(Lib, EntryPoint = "sd_journal_sendv")]
    public static partial int Sendv(IoVec* iov, int n);
}
