using LocalMigrate.Interop.Journal;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>
/// Serilog: under systemd (stderr is a journal stream) to the journal with structured fields (DOMAIN_NAME, JOB_ID,
/// PHASE, ...); otherwise to the console.
/// </summary>
internal static class DaemonLogging
{
    public const string SyslogIdentifier = "localmigrated";

    public static Logger Create()
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        if (JournalEnvironment.IsStderrConnectedToJournal())
            configuration.WriteTo.Sink(new JournaldSink(SyslogIdentifier));
        else
            configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose);
        return configuration.CreateLogger();
    }
}
