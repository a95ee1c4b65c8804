using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>Entry point of <c>localmigrated</c>: arguments, configuration, logging, then the Generic Host.</summary>
internal static class DaemonEntry
{
    public static int Run(string[] args)
    {
        // First, before the host starts its threads: keeps native memory flat across migrations (see NativeHeap).
        LocalMigrate.Interop.Posix.NativeHeap.LimitArenas(2);
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine(DaemonArgumentParser.Usage);
            return 0;
        }
        DaemonArguments arguments;
        DaemonOptions options;
        try
        {
            arguments = DaemonArgumentParser.Parse(args);
            options = DaemonConfigLoader.Load(arguments);
        }
        catch (Exception e) when (e is ArgumentException or IOException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"localmigrated: {e.Message}");
            Console.Error.WriteLine(DaemonArgumentParser.Usage);
            return 2;
        }

        using var logger = DaemonLogging.Create();
        // The interop layer logs through Serilog's static logger.
        Log.Logger = logger;
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
            builder.Logging.ClearProviders();
            builder.Logging.AddSerilog(logger);
            builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = EngineHostedService.JobDrainTimeout + TimeSpan.FromSeconds(15));
            // READY=1 once every hosted service started (the API owns the bus name by then), STOPPING=1 on SIGTERM;
            // active only when systemd is the parent process, so the unit starts the daemon directly.
            builder.Services.AddSystemd();
            builder.Services.AddSingleton(arguments);
            builder.Services.AddLocalMigrateEngine(options);
            builder.Services.AddHostedService<EngineHostedService>();
            DaemonServices.Add(builder.Services, options);
            using var host = builder.Build();
            host.Run();
            return Environment.ExitCode;
        }
        catch (Exception e)
        {
            logger.Fatal(e, "localmigrated failed: {Reason}", e.Message);
            Console.Error.WriteLine($"localmigrated: {e.Message}");
            return 1;
        }
    }
}
