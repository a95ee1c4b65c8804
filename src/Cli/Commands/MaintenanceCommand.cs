using System.CommandLine;
using System.Text.Json.Nodes;
using LocalMigrate.Contract;

namespace LocalMigrate.Cli.Commands;

/// <summary><c>localmigrate maintenance [on|off] [--json]</c>: sets or shows the host's maintenance flag.</summary>
internal static class MaintenanceCommand
{
    public static Command Create(Option<string> bus)
    {
        var state = new Argument<string?>("on|off") { Arity = ArgumentArity.ZeroOrOne, Description = "on: refuse start and incoming migrations; off: accept them again; none: show" };
        state.AcceptOnlyFromAmong("on", "off");
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var command = new Command("maintenance", "show or set this host's maintenance mode (while on, start and incoming migrations are refused)") { state, json };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            if (parsed.GetValue(state) is { } wanted)
                await client.Run(c => c.Manager.SetMaintenanceAsync(wanted == "on")).ConfigureAwait(false);
            var on = new PropertyReader(await client.Run(c => c.Manager.GetAllAsync()).ConfigureAwait(false)).Bool(ManagerContract.Maintenance);
            if (parsed.GetValue(json))
                Output.WriteJson(new JsonObject { ["maintenance"] = on });
            else
                Console.WriteLine(on ? "maintenance: on (start and incoming migrations are refused)" : "maintenance: off");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
