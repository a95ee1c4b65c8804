using System.Security.Cryptography;
using System.Text;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// The per-migration pre-shared key of an ssh migration: the source creates it, hands it to the destination over the
/// ssh channel, and both write it where their QEMU's <c>tls-creds-psk</c> reads it (<see cref="FileName"/>, lines of
/// <c>username:hexkey</c>, mode 0600 in a 0700 directory).
/// </summary>
internal static class MigrationPsk
{
    public const string FileName = "keys.psk";

    /// <summary>The username the source QEMU presents and the destination looks up.</summary>
    public const string Username = "localmigrate";

    public const int KeyBytes = 32;

    /// <summary>A fresh random key.</summary>
    public static byte[] CreateKey() => RandomNumberGenerator.GetBytes(KeyBytes);

    /// <summary>Writes <c>keys.psk</c> into <paramref name="directory"/> (created 0700 if missing) and returns the directory.</summary>
    /// <exception cref="ArgumentException">A username QEMU could not parse back, or an empty key.</exception>
    public static string WriteKeyFile(string directory, ReadOnlySpan<byte> key, string username = Username)
    {
        if (username.Length == 0 || username.Contains(':') || username.Any(char.IsWhiteSpace))
            throw new ArgumentException($"PSK username '{username}' must be non-empty, without ':' or white space", nameof(username));
        if (key.IsEmpty)
            throw new ArgumentException("the PSK key is empty", nameof(key));
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var line = $"{username}:{Convert.ToHexStringLower(key)}\n";
        AtomicFile.WriteAllBytes(Path.Combine(directory, FileName), Encoding.ASCII.GetBytes(line), FileDurability.SurvivesProcessCrash,
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return directory;
    }
}
