using System.CommandLine;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Cli.Commands;

internal static class MigrateCommand
{
    public static Command Create(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var to = new Option<string?>("--to") { Description = "destination URI; none: a local migration into a fresh QEMU" };
        var options = new MigrateOptionArguments();
        var command = new Command("migrate", "live-migrate a domain; without --to, into a fresh QEMU on this host") { name, to };
        options.AddTo(command);
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = await client.DomainPathAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            await using var watcher = await JobWatcher.SubscribeAsync(client).ConfigureAwait(false);
            var reply = await client.CallAsync(path, BusContract.DomainInterface, "Migrate", "sa{sv}",
                parsed.GetValue(to) ?? "", options.ToDictionary(parsed)).ConfigureAwait(false);
            var jobPath = ((BusObjectPath)reply[0]).Value;
            var json = parsed.GetValue(options.Json);
            var jobs = await ProgressDisplay.FollowAsync(watcher, [jobPath], showProgress: !json).ConfigureAwait(false);
            var job = jobs[0];
            if (json)
                Output.WriteJson(job.ToJson());
            else if (job.State == "completed")
                Console.WriteLine($"migrated {job.Domain}: pid {job.SourcePid} -> {job.TargetPid}, downtime {job.DowntimeMs} ms, total {job.TotalMs} ms, {Output.Bytes(job.TransferredBytes)} sent");
            if (job.State != "completed")
                throw new CliException(ExitCodes.Failed, $"migration of {job.Domain} {job.State}: {job.Error}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
