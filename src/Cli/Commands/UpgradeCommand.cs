using System.Text.Json.Nodes;
using System.CommandLine;
using LocalMigrate.Contract;
using Tmds.DBus.Protocol;

namespace LocalMigrate.Cli.Commands;

internal static class UpgradeCommand
{
    public static Command Create(Option<string> bus)
    {
        var names = new Argument<string[]>("NAME") { Arity = ArgumentArity.ZeroOrMore, Description = "domains to upgrade" };
        var all = new Option<bool>("--all") { Description = "every running domain" };
        var stale = new Option<bool>("--stale") { Description = "every running domain whose QEMU binary or libraries were replaced" };
        var parallel = new Option<uint?>("--parallel") { Description = "migrations at once (default: the daemon's maxParallelMigrations)" };
        var prepare = new Option<bool>("--prepare")
        {
            Description = "only start each domain's target QEMU now (a standby, kept 10 min); the upgrade that follows takes it instead of starting one",
        };
        var options = new MigrateOptionArguments();
        var command = new Command("upgrade", "local migrations onto the currently installed QEMU binary") { names, all, stale, parallel, prepare };
        options.AddTo(command);
        command.Validators.Add(result =>
        {
            var count = (result.GetValue(names)?.Length > 0 ? 1 : 0) + (result.GetValue(all) ? 1 : 0) + (result.GetValue(stale) ? 1 : 0);
            if (count != 1)
                result.AddError("upgrade: give NAME..., --all or --stale (exactly one of them)");
            if (result.GetValue(parallel) is 0 or > 64)
                result.AddError("--parallel: must be 1 to 64");
            if (result.GetValue(prepare) && result.GetValue(parallel) is not null)
                result.AddError("--parallel: not with --prepare (standby targets start one after the other)");
        });
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var migrateOptions = options.ToDictionary(parsed);
            if (parsed.GetValue(prepare))
                return await PrepareAsync(client, parsed.GetValue(names) ?? [], parsed.GetValue(stale), migrateOptions, parsed.GetValue(options.Json))
                    .ConfigureAwait(false);
            if (parsed.GetValue(parallel) is { } n)
                migrateOptions[BusContract.MigrateOptions.Parallel] = VariantValue.UInt32(n);
            await using var watcher = await JobWatcher.SubscribeAsync(client).ConfigureAwait(false);
            var paths = await client.Run(c => c.Manager.UpgradeAsync(parsed.GetValue(names) ?? [], parsed.GetValue(stale), migrateOptions))
                .ConfigureAwait(false);
            var json = parsed.GetValue(options.Json);
            var jobs = paths.Length == 0 ? [] : await ProgressDisplay.FollowAsync(watcher, paths, showProgress: !json).ConfigureAwait(false);
            if (json)
            {
                Output.WriteJson(new JsonObject
                {
                    ["upgraded"] = jobs.Count(j => j.IsCompleted), ["failed"] = jobs.Count(j => !j.IsCompleted),
                    ["jobs"] = Output.Array(jobs, j => j.ToJson()),
                });
            }
            else if (jobs.Count == 0)
            {
                Console.WriteLine("nothing to upgrade");
            }
            else
            {
                Output.WriteTable(["DOMAIN", "RESULT", "OLD PID", "OLD QEMU", "NEW PID", "NEW QEMU", "DOWNTIME", "TOTAL", "ERROR"], jobs.Select(j => (IReadOnlyList<string>)
                    [j.Domain, j.State, j.SourcePid == 0 ? "-" : j.SourcePid.ToString(), j.SourceVersion, j.TargetPid == 0 ? "-" : j.TargetPid.ToString(),
                     j.TargetVersion, $"{j.DowntimeMs} ms", $"{j.TotalMs} ms", j.Error]));
            }
            var failed = jobs.Count(j => !j.IsCompleted);
            if (failed > 0)
                throw new CliException(ExitCodes.Failed, $"{failed} of {jobs.Count} upgrades failed; the others completed");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<int> PrepareAsync(DaemonClient client, string[] names, bool staleOnly, Dictionary<string, VariantValue> options, bool json)
    {
        var (ready, problems) = await client.Run(c => c.Manager.PrepareTargetsAsync(names, staleOnly, options)).ConfigureAwait(false);
        if (json)
        {
            Output.WriteJson(new JsonObject
            {
                ["ready"] = Output.Strings(ready), ["problems"] = Output.Strings(problems),
            });
        }
        else
        {
            foreach (var name in ready)
                Console.WriteLine($"{name}: standby target ready");
            foreach (var problem in problems)
                Console.WriteLine(problem);
            if (ready.Length + problems.Length == 0)
                Console.WriteLine("nothing to prepare");
        }
        return problems.Length > 0
            ? throw new CliException(ExitCodes.Failed, $"{problems.Length} of {ready.Length + problems.Length} domains have no standby target")
            : ExitCodes.Ok;
    }
}
