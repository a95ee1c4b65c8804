using System.Text.Json.Nodes;
using System.CommandLine;

namespace LocalMigrate.Cli.Commands;

internal static class StatusCommand
{
    public static Command Create(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var command = new Command("status", "instance, runtime dir, pid, binary, version, stale reasons, last migration") { name, json };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var d = await client.DomainAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            var last = d.LastJob != "/" ? await client.JobAsync(d.LastJob).ConfigureAwait(false) : null;
            var running = d.Job != "/" ? await client.JobAsync(d.Job).ConfigureAwait(false) : null;
            var maintenance = new PropertyReader(await client.Run(c => c.Manager.GetAllAsync()).ConfigureAwait(false)).Bool(Contract.ManagerContract.Maintenance);
            if (parsed.GetValue(json))
            {
                Output.WriteJson(new JsonObject
                {
                    ["name"] = d.Name, ["uuid"] = d.Uuid, ["state"] = d.State, ["pid"] = d.Pid, ["instanceId"] = d.InstanceId,
                    ["runtimeDirectory"] = d.RuntimeDirectory, ["qemuBinary"] = d.QemuBinary, ["qemuVersion"] = d.QemuVersion,
                    ["machine"] = d.Machine, ["memoryMiB"] = d.MemoryMiB, ["memoryBacking"] = d.MemoryBacking, ["stale"] = d.Stale,
                    ["staleReasons"] = Output.Strings(d.StaleReasons), ["consoleLog"] = d.ConsoleLog,
                    ["job"] = running?.ToJson(), ["lastMigration"] = last?.ToJson(), ["hostMaintenance"] = maintenance,
                    ["nics"] = Output.Strings(d.Nics),
                });
                return ExitCodes.Ok;
            }
            List<IReadOnlyList<string>> rows =
            [
                ["name", d.Name], ["uuid", d.Uuid], ["state", d.State], ["pid", d.Pid == 0 ? "-" : d.Pid.ToString()],
                ["instance", d.InstanceId], ["runtime dir", d.RuntimeDirectory], ["binary", d.QemuBinary], ["version", d.QemuVersion],
                ["machine", d.Machine], ["memory", $"{d.MemoryMiB} MiB {d.MemoryBacking}"],
                ["stale", d.Stale ? "yes: " + string.Join("; ", d.StaleReasons) : "no"], ["console log", d.ConsoleLog],
            ];
            foreach (var nic in d.Nics)
                rows.Add(["nic", nic]);
            if (maintenance)
                rows.Add(["host", "in maintenance: start and incoming migrations refused"]);
            if (running is not null)
                rows.Add(["migrating", $"job {running.Id}, {running.Progress:0}%, {ProgressDisplay.Figures(running, null)}"]);
            if (last is not null)
                rows.Add(["last migration", $"{last.State}: downtime {last.DowntimeMs} ms, total {last.TotalMs} ms, {Output.Bytes(last.TransferredBytes)}, pid {last.SourcePid} -> {last.TargetPid}{(last.Error.Length > 0 ? ", " + last.Error : "")}"]);
            Output.WriteTable(["FIELD", "VALUE"], rows);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
