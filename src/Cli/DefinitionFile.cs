using System.Text;
using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.Cli;

/// <summary>
/// Reads the FILE of <c>define</c>: at most the daemon's limit plus one byte, so /dev/zero, a 50 MB file or a
/// directory end with one clear line (exit 2) instead of a stack trace, an exhausted machine or a bus connection
/// the daemon dropped without saying why (issue 11).
/// </summary>
internal static class DefinitionFile
{
    private const int Limit = DefinitionLimits.MaxDocumentBytes;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <param name="path">A file, or "-" for standard input.</param>
    /// <exception cref="CliException">Unreadable, a directory, too large, or not UTF-8; names the file.</exception>
    public static async Task<string> ReadAsync(string path)
    {
        var name = path == "-" ? "standard input" : path;
        if (path != "-" && Directory.Exists(path))
            throw new CliException(ExitCodes.Usage, $"FILE: {name} is a directory, not a domain definition");
        var buffer = new byte[Limit + 1];
        var length = 0;
        try
        {
            await using var stream = path == "-" ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length)).ConfigureAwait(false)) > 0)
                length += read;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"FILE: cannot read {name}: {e.Message}");
        }
        if (length > Limit)
            throw new CliException(ExitCodes.Usage, $"FILE: {name} is larger than {Limit} bytes (1 MiB), the most a domain definition may be");
        var bom = StrictUtf8.Preamble;
        var start = buffer.AsSpan(0, length).StartsWith(bom) ? bom.Length : 0;
        try
        {
            return StrictUtf8.GetString(buffer, start, length - start);
        }
        catch (DecoderFallbackException e)
        {
            throw new CliException(ExitCodes.Usage, $"FILE: {name} is not UTF-8 text (bad byte at offset {start + e.Index})");
        }
    }
}
