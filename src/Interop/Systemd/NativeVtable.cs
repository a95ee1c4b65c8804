using System.Runtime.InteropServices;
using System.Text;
using LocalMigrate.Interop.Systemd.Native;

namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// An sd_bus_vtable array in zeroed native memory, laid out as systemd 252's sd-bus-vtable.h: 56-byte entries,
/// each a 64-bit word (type in the low 8 bits, flags in the upper 56) followed by a union of up to six pointers.
/// The START entry carries element_size, features (_SD_BUS_VTABLE_PARAM_NAMES) and a pointer to libsystemd's
/// exported sd_bus_object_vtable_format, which sd-bus uses to recognise the layout. The memory must outlive the
/// slot returned by sd_bus_add_object_vtable(3).
/// </summary>
internal sealed unsafe class NativeVtable : IDisposable
{
    public const int EntrySize = 56;

    // sd-bus-vtable.h entry types.
    private const byte TypeStart = (byte)'<';
    private const byte TypeEnd = (byte)'>';
    private const byte TypeMethod = (byte)'M';
    private const byte TypeSignal = (byte)'S';
    private const byte TypeProperty = (byte)'P';

    // sd-bus-vtable.h flags.
    private const ulong FlagDeprecated = 1UL << 0;
    private const ulong FlagHidden = 1UL << 1;
    private const ulong FlagUnprivileged = 1UL << 2;
    private const ulong FlagPropertyConst = 1UL << 4;
    private const ulong FlagPropertyEmitsChange = 1UL << 5;
    private const ulong FlagPropertyEmitsInvalidation = 1UL << 6;
    private const ulong FlagPropertyExplicit = 1UL << 7;
    private const ulong FeatureParamNames = 1UL << 0;

    private static readonly Lazy<IntPtr> VtableFormat = new(() =>
        NativeLibrary.GetExport(NativeLibrary.Load("libsystemd.so.0"), "sd_bus_object_vtable_format"));

    private readonly List<IntPtr> _allocations = [];

    public NativeVtable(BusInterface iface)
    {
        var count = 2 + iface.Methods.Count + iface.Signals.Count + iface.Properties.Count;
        Pointer = (IntPtr)NativeMemory.AllocZeroed((nuint)(count * EntrySize));
        _allocations.Add(Pointer);
        var entry = (ulong*)Pointer;

        entry[0] = TypeStart;
        entry[1] = EntrySize;
        entry[2] = FeatureParamNames;
        entry[3] = (ulong)VtableFormat.Value;
        entry += EntrySize / sizeof(ulong);

        foreach (var method in iface.Methods)
        {
            // Untrusted buses (anything but a user bus) refuse methods without UNPRIVILEGED unless the caller
            // has CAP_SYS_ADMIN; the daemon authorizes callers itself from BusMethodCall.SenderUid.
            entry[0] = TypeMethod | (FlagUnprivileged << 8);
            entry[1] = Str(method.Name);
            entry[2] = Str(method.InSignature);
            entry[3] = Str(method.OutSignature);
            entry[4] = (ulong)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, int>)&NativeCallbacks.OnMethodCall;
            entry[5] = 0; // offset added to userdata
            entry[6] = Names(method.InNames.Concat(method.OutNames));
            entry += EntrySize / sizeof(ulong);
        }

        foreach (var signal in iface.Signals)
        {
            entry[0] = TypeSignal;
            entry[1] = Str(signal.Name);
            entry[2] = Str(signal.Signature);
            entry[3] = Names(signal.ArgNames);
            entry += EntrySize / sizeof(ulong);
        }

        foreach (var property in iface.Properties)
        {
            entry[0] = TypeProperty | (PropertyFlags(property.Flags) << 8);
            entry[1] = Str(property.Name);
            entry[2] = Str(property.Signature);
            entry[3] = (ulong)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, IntPtr, int>)&NativeCallbacks.OnPropertyGet;
            entry[4] = 0; // no setter: read-only
            entry[5] = 0; // offset
            entry += EntrySize / sizeof(ulong);
        }

        entry[0] = TypeEnd;
    }

    public IntPtr Pointer { get; }

    public void Dispose()
    {
        foreach (var allocation in _allocations)
        {
            NativeMemory.Free((void*)allocation);
        }

        _allocations.Clear();
    }

    private static ulong PropertyFlags(BusPropertyFlags flags)
    {
        ulong native = 0;
        if (flags.HasFlag(BusPropertyFlags.Const)) native |= FlagPropertyConst;
        if (flags.HasFlag(BusPropertyFlags.EmitsChange)) native |= FlagPropertyEmitsChange;
        if (flags.HasFlag(BusPropertyFlags.EmitsInvalidation)) native |= FlagPropertyEmitsInvalidation;
        if (flags.HasFlag(BusPropertyFlags.Explicit)) native |= FlagPropertyExplicit;
        if (flags.HasFlag(BusPropertyFlags.Hidden)) native |= FlagHidden;
        if (flags.HasFlag(BusPropertyFlags.Deprecated)) native |= FlagDeprecated;
        return native;
    }

    private ulong Str(string value) => Bytes(Encoding.UTF8.GetBytes(value + "\0"));

    /// <summary>Argument names as sd-bus wants them: each NUL-terminated, concatenated, then a final NUL.</summary>
    private ulong Names(IEnumerable<string> names) =>
        Bytes(Encoding.UTF8.GetBytes(string.Concat(names.Select(n => n + "\0")) + "\0"));

    private ulong Bytes(byte[] bytes)
    {
        var ptr = NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(ptr, bytes.Length));
        _allocations.Add((IntPtr)ptr);
        return (ulong)ptr;
    }
}
