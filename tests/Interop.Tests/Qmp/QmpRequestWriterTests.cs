using System.Text;
using System.Text.Json.Nodes;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.Interop.Tests.Qmp;

public sealed class QmpRequestWriterTests
{
    [Fact]
    public void Format_CommandArgumentsAndId_OneLineOfJson()
    {
        byte[] request = QmpRequestWriter.Format("migrate", new { Uri = "unix:/run/x\nsock", Detach = (bool?)null }, 42);

        string text = Encoding.UTF8.GetString(request);
        Assert.EndsWith("\n", text);
        Assert.DoesNotContain('\n', text[..^1]); // the newline inside the value is escaped
        Assert.Equal("""{"execute":"migrate","arguments":{"uri":"unix:/run/x\nsock"},"id":42}""", JsonNode.Parse(text)!.ToJsonString());
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritersOnChunkingStream_NeverInterleave()
    {
        var stream = new ChunkingStream();
        var writer = new QmpRequestWriter(stream);

        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => writer.WriteAsync(
            QmpRequestWriter.Format("echo", new { Payload = new string((char)('a' + i), 100) }, i),
            CancellationToken.None, CancellationToken.None))));

        string[] lines = Encoding.UTF8.GetString(stream.Written).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(16, lines.Length);
        Assert.Equal(Enumerable.Range(0, 16), lines.Select(l => (int)JsonNode.Parse(l)!["id"]!).Order());
    }
}
