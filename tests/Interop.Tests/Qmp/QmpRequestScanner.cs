using System.Text;

namespace LocalMigrate.Interop.Tests.Qmp;

/// <summary>
/// Finds where each request ends in what a client wrote, the way QEMU's JSON streamer does: an object is complete at
/// the brace that closes it (outside strings), with no terminator after it. Whitespace between objects is skipped.
/// </summary>
internal sealed class QmpRequestScanner
{
    private readonly List<byte> _current = [];
    private int _depth;
    private bool _inString;
    private bool _escaped;

    /// <summary>Every complete object in <paramref name="written"/>; fails on bytes left after the last one.</summary>
    public static IReadOnlyList<string> Split(byte[] written)
    {
        var scanner = new QmpRequestScanner();
        var objects = new List<string>();
        foreach (byte b in written)
        {
            if (scanner.Feed(b) is { } text)
                objects.Add(text);
        }
        Assert.True(scanner._current.Count == 0, $"an incomplete request at the end: {Encoding.UTF8.GetString([.. scanner._current])}");
        return objects;
    }

    /// <summary>
    /// Reads one byte at a time, as QEMU does, until an object is complete, so nothing after it is consumed.
    /// Null when the stream ends between objects.
    /// </summary>
    public static async Task<string?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var scanner = new QmpRequestScanner();
        var one = new byte[1];
        while (await stream.ReadAsync(one, cancellationToken) == 1)
        {
            if (scanner.Feed(one[0]) is { } text)
                return text;
        }
        return scanner._current.Count == 0
            ? null
            : throw new EndOfStreamException($"the client closed inside a request: {Encoding.UTF8.GetString([.. scanner._current])}");
    }

    /// <returns>The object's text when <paramref name="b"/> completes it, else null.</returns>
    private string? Feed(byte b)
    {
        if (_depth == 0 && b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            return null;
        _current.Add(b);
        if (_inString)
        {
            if (_escaped)
                _escaped = false;
            else if (b == '\\')
                _escaped = true;
            else if (b == '"')
                _inString = false;
            return null;
        }
        switch (b)
        {
            case (byte)'"':
                _inString = true;
                break;
            case (byte)'{' or (byte)'[':
                _depth++;
                break;
            case (byte)'}' or (byte)']':
                _depth--;
                break;
        }
        Assert.True(_depth > 0 || b is (byte)'}' or (byte)']', $"a request must be a JSON object: {Encoding.UTF8.GetString([.. _current])}");
        if (_depth != 0)
            return null;
        var text = Encoding.UTF8.GetString([.. _current]);
        _current.Clear();
        return text;
    }
}
