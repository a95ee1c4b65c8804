using System.Text.Json.Nodes;
using System.CommandLine;

namespace LocalMigrate.Cli.Commands;

internal static class JobsCommand
{
    public static Command Create(Option<string> bus)
    {
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var command = new Command("jobs", "running and recent migrations with phase and progress") { json };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var jobs = await client.JobsAsync().ConfigureAwait(false);
            if (parsed.GetValue(json))
            {
                Output.WriteJson(Output.Array(jobs, j => j.ToJson()));
                return ExitCodes.Ok;
            }
            Output.WriteTable(["JOB", "DOMAIN", "KIND", "STATE", "PHASE", "PROGRESS", "DOWNTIME", "TOTAL", "ERROR"], jobs.Select(j => (IReadOnlyList<string>)
                [j.Id, j.Domain, j.Kind, j.State, j.Phase, $"{j.Progress:0}%", $"{j.DowntimeMs} ms", $"{j.TotalMs} ms", j.Error]));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
