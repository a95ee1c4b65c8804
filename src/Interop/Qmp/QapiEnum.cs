using System.Collections.Frozen;
using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// QAPI enum values and C# enums: member <c>PostcopyActive</c> is <c>"postcopy-active"</c> on the wire.
/// A newer QEMU adds values; an enum that declares a member named <c>Unknown</c> receives every value it
/// does not know as that member instead of failing the whole reply (libvirt does the same with its
/// <c>qemuMonitorMigrationStatus</c> lookups).
/// </summary>
public static class QapiEnum
{
    /// <summary>The member for a wire value; <c>Unknown</c> for one this build does not know, or for null.</summary>
    /// <exception cref="ArgumentException">The value is unknown and <typeparamref name="TEnum"/> has no <c>Unknown</c> member.</exception>
    public static TEnum Parse<TEnum>(string? value) where TEnum : struct, Enum =>
        Names<TEnum>.TryParse(value, out TEnum member)
            ? member
            : throw new ArgumentException($"'{value}' is not a QAPI {typeof(TEnum).Name} value this build knows", nameof(value));

    /// <summary>The wire value of a member, e.g. "x-ignore-shared".</summary>
    /// <exception cref="ArgumentOutOfRangeException"><c>Unknown</c> or an undeclared value: there is nothing to send.</exception>
    public static string ToQapiString<TEnum>(this TEnum member) where TEnum : struct, Enum =>
        Names<TEnum>.ToWire.TryGetValue(member, out string? name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(member), member, $"{typeof(TEnum).Name} member has no QAPI name");

    internal static class Names<TEnum> where TEnum : struct, Enum
    {
        private const string UnknownMember = "Unknown";

        public static readonly FrozenDictionary<TEnum, string> ToWire = Enum.GetValues<TEnum>()
            .Where(m => m.ToString() != UnknownMember)
            .ToFrozenDictionary(m => m, m => JsonNamingPolicy.KebabCaseLower.ConvertName(m.ToString()));

        private static readonly FrozenDictionary<string, TEnum> FromWire =
            ToWire.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

        private static readonly TEnum? Unknown =
            Enum.TryParse(UnknownMember, ignoreCase: false, out TEnum unknown) ? unknown : null;

        public static bool TryParse(string? value, out TEnum member)
        {
            if (value is not null && FromWire.TryGetValue(value, out member))
            {
                return true;
            }
            member = Unknown ?? default;
            return Unknown.HasValue;
        }
    }
}
