using System.Buffers.Binary;
using System.Text;
using LocalMigrate.Interop.Journal;
using Serilog;
using Serilog.Events;
using Xunit.Abstractions;

namespace LocalMigrate.Interop.Tests.Journal;

[Collection(GlobalStateCollection.Name)]
public sealed class JournaldSinkTests(ITestOutputHelper output)
{
    // Hard-coded in libsystemd's sd_journal_sendv(3).
    private const string JournalDirectory = "/run/systemd/journal";
    private const string JournalSocket = JournalDirectory + "/socket";

    [Fact]
    public void Emit_EventWithProperties_SendsNativeJournalFields()
    {
        if (File.Exists(JournalSocket))
        {
            // A real journald owns the path; the datagram cannot be intercepted here.
            output.WriteLine($"{JournalSocket} exists (journald running); this test needs a machine without journald");
            return;
        }

        var createdDirectory = !Directory.Exists(JournalDirectory);
        Directory.CreateDirectory(JournalDirectory);
        try
        {
            using var journal = new DatagramListener(JournalSocket);
            using var logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new JournaldSink("localmigrated")).CreateLogger();
            var uuid = Guid.Parse("5b1c8d0e-3f57-4a6e-9d2a-8c4f1e0b7a21");

            logger.ForContext("DomainUuid", uuid)
                .Warning(new InvalidOperationException("first line\nsecond line"), "Migrating {DomainName} as job {JobId} in {Phase}", "vm1", 42, "Perform");
            var fields = Parse(journal.Receive());

            Assert.Equal("Migrating \"vm1\" as job 42 in \"Perform\"", fields["MESSAGE"]);
            Assert.Equal("4", fields["PRIORITY"]);
            Assert.Equal("localmigrated", fields["SYSLOG_IDENTIFIER"]);
            Assert.Equal("Migrating {DomainName} as job {JobId} in {Phase}", fields["MESSAGE_TEMPLATE"]);
            Assert.Equal("vm1", fields["DOMAIN_NAME"]);
            Assert.Equal("42", fields["JOB_ID"]);
            Assert.Equal("Perform", fields["PHASE"]);
            Assert.Equal(uuid.ToString(), fields["DOMAIN_UUID"]);
            Assert.Contains("first line\nsecond line", fields["EXCEPTION"]);
        }
        finally
        {
            if (createdDirectory)
            {
                Directory.Delete(JournalDirectory, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(LogEventLevel.Verbose, 7)]
    [InlineData(LogEventLevel.Debug, 7)]
    [InlineData(LogEventLevel.Information, 6)]
    [InlineData(LogEventLevel.Warning, 4)]
    [InlineData(LogEventLevel.Error, 3)]
    [InlineData(LogEventLevel.Fatal, 2)]
    public void Priority_SerilogLevel_MapsToSyslogPriority(LogEventLevel level, int priority)
    {
        Assert.Equal(priority, JournaldSink.Priority(level));
    }

    /// <summary>
    /// journald's native protocol: "FIELD=value\n", or for values with newlines
    /// "FIELD\n" + little-endian 64-bit length + value + "\n".
    /// </summary>
    private static Dictionary<string, string> Parse(byte[] datagram)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var position = 0;
        while (position < datagram.Length)
        {
            var rest = datagram.AsSpan(position);
            var separator = rest.IndexOfAny((byte)'=', (byte)'\n');
            Assert.True(separator > 0, "malformed journal datagram");
            var name = Encoding.ASCII.GetString(rest[..separator]);
            if (rest[separator] == (byte)'=')
            {
                var end = rest.IndexOf((byte)'\n');
                fields[name] = Encoding.UTF8.GetString(rest[(separator + 1)..end]);
                position += end + 1;
            }
            else
            {
                var length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(rest[(separator + 1)..]));
                var start = separator + 1 + sizeof(ulong);
                fields[name] = Encoding.UTF8.GetString(rest.Slice(start, length));
                Assert.Equal((byte)'\n', rest[start + length]);
                position += start + length + 1;
            }
        }

        return fields;
    }
}
