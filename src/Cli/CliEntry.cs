using System.CommandLine;
using LocalMigrate.Cli.Commands;

namespace LocalMigrate.Cli;

/// <summary>Entry point of <c>localmigrate</c>: the command tree of DESIGN.md section 2.</summary>
internal static class CliEntry
{
    public static int Run(string[] args)
    {
        var bus = new Option<string>("--bus")
        {
            Description = "system, session, or a D-Bus address (default: $LOCALMIGRATE_BUS, else system)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LOCALMIGRATE_BUS") is { Length: > 0 } env ? env : "system",
        };
        var root = new RootCommand("localmigrate: live-migrate VMs onto a fresh QEMU process (client of localmigrated)");
        root.Options.Add(bus);
        foreach (var command in new[]
                 {
                     DefineCommand.Create(bus), LifecycleCommands.Undefine(bus), LifecycleCommands.Start(bus), LifecycleCommands.Stop(bus),
                     ListCommand.Create(bus), StatusCommand.Create(bus), MigrateCommand.Create(bus), UpgradeCommand.Create(bus),
                     LifecycleCommands.Cancel(bus), LifecycleCommands.StartPostcopy(bus), JobsCommand.Create(bus), ConsoleCommand.Create(bus), SnapshotCommand.Create(bus),
                     PeerBridgeCommand.Create(bus), MaintenanceCommand.Create(bus), EvacuateCommand.Create(bus), HostCommand.Create(bus),
                 })
            root.Subcommands.Add(command);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"localmigrate: {parsed.Errors[0].Message} (see localmigrate --help)");
            return ExitCodes.Usage;
        }
        return parsed.Invoke();
    }

    /// <summary>Runs a command body with the daemon connection; every failure becomes one line on stderr.</summary>
    public static int Execute(ParseResult parsed, Option<string> bus, Func<DaemonClient, Task<int>> body)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        try
        {
            return Task.Run(async () =>
            {
                await using var client = await DaemonClient.ConnectAsync(parsed.GetValue(bus)!, cancel.Token).ConfigureAwait(false);
                return await body(client).ConfigureAwait(false);
            }).GetAwaiter().GetResult();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"localmigrate: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("localmigrate: interrupted");
            return 130;
        }
    }
}
