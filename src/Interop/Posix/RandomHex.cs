namespace LocalMigrate.Interop.Posix;

/// <summary>
/// Random identifiers (instance ids, job ids). Not RandomNumberGenerator: on Linux that is OpenSSL, and loading
/// libcrypto and its .NET shim for a name cost the daemon ~5 MB of resident memory (measured) that it otherwise needs
/// only for remote migrations. Guid.NewGuid takes its bytes from System.Native (arc4random on glibc 2.36+, else
/// /dev/urandom): unique and unguessable enough for names under a root-only directory.
/// </summary>
public static class RandomHex
{
    /// <summary><paramref name="bytes"/> random bytes (at most 6: a version-4 GUID's first six bytes are all random) as
    /// lower-case hex.</summary>
    public static string Of(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, 6);
        Span<byte> guid = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(guid);
        return Convert.ToHexStringLower(guid[..bytes]);
    }
}
