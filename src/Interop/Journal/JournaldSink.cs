using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;

namespace LocalMigrate.Interop.Journal;

/// <summary>
/// Writes Serilog events to journald with sd_journal_sendv(3): MESSAGE, PRIORITY (syslog level),
/// SYSLOG_IDENTIFIER, MESSAGE_TEMPLATE, EXCEPTION, and one field per property (DomainName → DOMAIN_NAME).
/// Values may contain newlines; libsystemd picks the binary-safe encoding. A failed write never throws:
/// it goes to Serilog's SelfLog.
/// </summary>
public sealed class JournaldSink : ILogEventSink
{
    // syslog(3) priorities, as journald's PRIORITY= expects.
    private const int PriorityCritical = 2;
    private const int PriorityError = 3;
    private const int PriorityWarning = 4;
    private const int PriorityInfo = 6;
    private const int PriorityDebug = 7;

    private readonly string _syslogIdentifier;
    private readonly IFormatProvider? _formatProvider;

    public JournaldSink(string syslogIdentifier, IFormatProvider? formatProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(syslogIdentifier);
        _syslogIdentifier = syslogIdentifier;
        _formatProvider = formatProvider ?? CultureInfo.InvariantCulture;
    }

    public void Emit(LogEvent logEvent)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("MESSAGE", logEvent.RenderMessage(_formatProvider)),
            new("PRIORITY", Priority(logEvent.Level).ToString(CultureInfo.InvariantCulture)),
            new("SYSLOG_IDENTIFIER", _syslogIdentifier),
            new("MESSAGE_TEMPLATE", logEvent.MessageTemplate.Text),
        };
        if (logEvent.Exception is not null)
        {
            fields.Add(new("EXCEPTION", logEvent.Exception.ToString()));
        }

        var taken = new HashSet<string>(fields.Select(f => f.Key), StringComparer.Ordinal);
        foreach (var (name, value) in logEvent.Properties)
        {
            var field = JournalFieldName.From(name);
            if (field is not null && taken.Add(field))
            {
                fields.Add(new(field, Render(value)));
            }
        }

        try
        {
            Send(fields);
        }
        catch (Exception e)
        {
            SelfLog.WriteLine("JournaldSink: {0}", e.Message);
        }
    }

    internal static int Priority(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => PriorityCritical,
        LogEventLevel.Error => PriorityError,
        LogEventLevel.Warning => PriorityWarning,
        LogEventLevel.Information => PriorityInfo,
        _ => PriorityDebug,
    };

    private string Render(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: null } => "",
        ScalarValue { Value: string text } => text,
        ScalarValue { Value: IFormattable formattable } => formattable.ToString(null, _formatProvider),
        ScalarValue scalar => scalar.Value.ToString() ?? "",
        _ => value.ToString(null, _formatProvider),
    };

    private static unsafe void Send(List<KeyValuePair<string, string>> fields)
    {
        // One buffer holding every "FIELD=value"; the iovecs point into it.
        var encoded = fields.Select(f => Encoding.UTF8.GetBytes(f.Key + "=" + f.Value)).ToArray();
        var buffer = new byte[encoded.Sum(e => e.Length)];
        var vectors = new IoVec[encoded.Length];
        fixed (byte* start = buffer)
        fixed (IoVec* iov = vectors)
        {
            var offset = 0;
            for (var i = 0; i < encoded.Length; i++)
            {
                encoded[i].CopyTo(buffer, offset);
                iov[i].Base = start + offset;
                iov[i].Length = (nuint)encoded[i].Length;
                offset += encoded[i].Length;
            }

            var rc = SdJournal.Sendv(iov, vectors.Length);
            if (rc < 0)
            {
                throw new IOException($"sd_journal_sendv failed: errno {-rc}");
            }
        }
    }
}
