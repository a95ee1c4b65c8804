using System.CommandLine;
using System.Text.Json.Nodes;
using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.Cli.Commands;

/// <summary>
/// <c>localmigrate evacuate --to URI[,URI...] [--parallel N] [--dry-run] [options] [--json]</c>: maintenance on, then every running
/// domain moves live to the destination with the most free RAM that passes its pre-flight; a summary per domain like upgrade's.
/// </summary>
internal static class EvacuateCommand
{
    public static Command Create(Option<string> bus)
    {
        var to = new Option<string[]>("--to")
        {
            Description = "destinations, comma-separated or repeated: ssh://[user@]host[:port], tls://host[:port], tcp://host[:port] (or qemu+ssh://host/system...)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var parallel = new Option<uint?>("--parallel") { Description = "migrations at once (default: the daemon's maxParallelMigrations)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the plan (domain -> destination, RAM) and move nothing; maintenance stays as it is" };
        var options = new MigrateOptionArguments();
        var command = new Command("evacuate", "maintenance on, then move every running domain live to the given hosts") { to, parallel, dryRun };
        options.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(parallel) is 0 or > 64)
                result.AddError("--parallel: must be 1 to 64");
            if (Destinations(result.GetValue(to)).Count == 0)
                result.AddError("--to: give at least one destination");
        });
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var json = parsed.GetValue(options.Json);
            var dry = parsed.GetValue(dryRun);
            var evacuateOptions = options.ToDictionary(parsed);
            if (parsed.GetValue(parallel) is { } n)
                evacuateOptions[BusContract.MigrateOptions.Parallel] = VariantValue.UInt32(n);
            evacuateOptions[ManagerContract.EvacuateOptions.DryRun] = VariantValue.Bool(dry);
            await using var watcher = await JobWatcher.SubscribeAsync(client).ConfigureAwait(false);
            var (plan, paths) = await client.Run(c => c.Manager.EvacuateAsync(Destinations(parsed.GetValue(to)), evacuateOptions)).ConfigureAwait(false);
            if (dry)
            {
                if (json)
                    Output.WriteJson(new JsonObject { ["dryRun"] = true, ["plan"] = PlanJson(plan) });
                else if (plan.Length == 0)
                    Console.WriteLine("nothing runs here: nothing to evacuate");
                else
                    Output.WriteTable(["DOMAIN", "DESTINATION", "RAM", "REFUSED BY"], plan.Select(p => (IReadOnlyList<string>)
                        [p.Domain, p.Destination.Length == 0 ? "(stays here)" : p.Destination, Output.Bytes(p.Bytes), p.Refusals.Count == 0 ? "-" : string.Join("; ", p.Refusals)]));
                return ExitCodes.Ok;
            }
            if (!json)
                Console.WriteLine($"maintenance on; evacuating {plan.Length} domain(s)");
            var jobs = paths.Length == 0 ? [] : await ProgressDisplay.FollowAsync(watcher, paths, showProgress: !json).ConfigureAwait(false);
            if (json)
            {
                Output.WriteJson(new JsonObject
                {
                    ["dryRun"] = false, ["maintenance"] = true,
                    ["evacuated"] = jobs.Count(j => j.IsCompleted), ["failed"] = jobs.Count(j => !j.IsCompleted),
                    ["plan"] = PlanJson(plan),
                    // Each job's destination is where the guest went (or the last host tried): a retry may differ from the plan.
                    ["jobs"] = Output.Array(jobs, j => j.ToJson()),
                });
            }
            else if (jobs.Count == 0)
            {
                Console.WriteLine("nothing runs here: nothing to evacuate");
            }
            else
            {
                Output.WriteTable(["DOMAIN", "DESTINATION", "RESULT", "OLD PID", "NEW PID", "DOWNTIME", "TOTAL", "ERROR"], jobs.Select(j => (IReadOnlyList<string>)
                    [j.Domain, j.Destination.Length > 0 ? j.Destination : "-", j.State,
                     j.SourcePid == 0 ? "-" : j.SourcePid.ToString(), j.TargetPid == 0 ? "-" : j.TargetPid.ToString(),
                     $"{j.DowntimeMs} ms", $"{j.TotalMs} ms",
                     string.Join("; ", j.EarlierAttempts.Select(a => $"{a.Destination}: {a.Error}").Append(j.Error).Where(e => e.Length > 0))]));
            }
            var failed = jobs.Count(j => !j.IsCompleted);
            if (failed > 0)
                throw new CliException(ExitCodes.Failed, $"{failed} of {jobs.Count} domains did not move and keep running here; maintenance stays on");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static List<string> Destinations(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static JsonArray PlanJson(IEnumerable<EvacuationPlanEntry> plan) => Output.Array(plan, p => new JsonObject
    {
        ["domain"] = p.Domain, ["destination"] = p.Destination.Length == 0 ? null : p.Destination, ["bytes"] = p.Bytes,
        ["refusals"] = Output.Strings(p.Refusals),
    });
}
