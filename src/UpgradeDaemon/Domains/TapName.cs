using System.Security.Cryptography;
using System.Text;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// The name of the tap the daemon creates for a bridged NIC: "lm", 8 hex digits of SHA-256 of the domain name, "n" and
/// the NIC's index, at most 13 characters (IFNAMSIZ - 1 is 15). The same on every host and for every instance, so a
/// migration never renames it and an operator can tell which domain a port on the bridge belongs to.
/// </summary>
public static class TapName
{
    public static string For(string domainName, int nicIndex)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(domainName));
        return $"lm{Convert.ToHexString(hash, 0, 4).ToLowerInvariant()}n{nicIndex}";
    }

    /// <summary>The tap a NIC's QEMU backend uses: the daemon's (bridge) or the operator's (tap); null for user networking.</summary>
    public static string? Of(DomainDefinition definition, int nicIndex)
    {
        var nic = definition.Nics[nicIndex];
        return nic.Type switch
        {
            NicDefinition.BridgeType => For(definition.Name, nicIndex),
            NicDefinition.TapType => nic.Tap,
            _ => null,
        };
    }
}
