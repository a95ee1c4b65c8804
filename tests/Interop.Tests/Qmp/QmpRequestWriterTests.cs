using System.Text;
using System.Text.Json.Nodes;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.Interop.Tests.Qmp;

public sealed class QmpRequestWriterTests
{
    [Fact]
    public void Format_CommandArgumentsAndId_OneJsonObjectWithNothingAfterIt()
    {
        byte[] request = QmpRequestWriter.Format("migrate", new { Uri = "unix:/run/x\nsock", Detach = (bool?)null }, 42);

        string text = Encoding.UTF8.GetString(request);
        // Nothing after the closing brace: QEMU would leave it unread, and its close after quit would then be a reset.
        Assert.EndsWith("}", text);
        Assert.DoesNotContain('\n', text); // the newline inside the value is escaped
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

        IReadOnlyList<string> requests = QmpRequestScanner.Split(stream.Written);
        Assert.Equal(16, requests.Count);
        Assert.Equal(Enumerable.Range(0, 16), requests.Select(r => (int)JsonNode.Parse(r)!["id"]!).Order());
    }
}
