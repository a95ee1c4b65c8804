using System.Text.Json.Nodes;
using System.CommandLine;
using LocalMigrate.Contract;

namespace LocalMigrate.Cli.Commands;

internal static class MigrateCommand
{
    public static Command Create(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var to = new Option<string?>("--to") { Description = "destination URI; none: a local migration into a fresh QEMU" };
        var detach = new Option<bool>("--detach") { Description = "return at once with the job's path; follow it with `jobs`" };
        var options = new MigrateOptionArguments();
        var command = new Command("migrate", "live-migrate a domain; without --to, into a fresh QEMU on this host; Ctrl-C cancels it") { name, to, detach };
        options.AddTo(command);
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var domainName = parsed.GetValue(name)!;
            var path = await client.DomainPathAsync(domainName).ConfigureAwait(false);
            var json = parsed.GetValue(options.Json);
            await using var watcher = await JobWatcher.SubscribeAsync(client).ConfigureAwait(false);
            var jobPath = await client.Run(c => c.Domain(path).MigrateAsync(parsed.GetValue(to) ?? "", options.ToDictionary(parsed))).ConfigureAwait(false);
            if (parsed.GetValue(detach))
            {
                if (json)
                    Output.WriteJson(new JsonObject { ["job"] = jobPath, ["domain"] = domainName });
                else
                    Console.WriteLine(jobPath);
                return ExitCodes.Ok;
            }
            // Ctrl-C cancels the migration (as virsh does) and keeps following it to its end: the source runs on.
            using var onInterrupt = client.Interrupted.Register(() =>
            {
                Console.Error.WriteLine($"localmigrate: interrupted: cancelling the migration of {domainName}");
                _ = client.Run(c => c.Job(jobPath).CancelAsync()).ContinueWith(t =>
                {
                    if (t.Exception?.InnerException is CliException e)
                        Console.Error.WriteLine($"localmigrate: cancel refused: {e.Message}");
                }, TaskScheduler.Default);
            });
            var jobs = await ProgressDisplay.FollowAsync(watcher, [jobPath], showProgress: !json).ConfigureAwait(false);
            var job = jobs[0];
            if (json)
                Output.WriteJson(job.ToJson());
            else if (job.IsCompleted)
                Console.WriteLine($"migrated {job.Domain}: pid {job.SourcePid} -> {job.TargetPid}, downtime {job.DowntimeMs} ms, total {job.TotalMs} ms, {Output.Bytes(job.TransferredBytes)} sent");
            if (!job.IsCompleted)
                throw new CliException(ExitCodes.Failed, $"migration of {job.Domain} {job.State}: {job.Error}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
