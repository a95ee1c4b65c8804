using System.Text.Json.Nodes;
using System.CommandLine;

namespace LocalMigrate.Cli.Commands;

internal static class ListCommand
{
    public static Command Create(Option<string> bus)
    {
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var command = new Command("list", "one row per domain: name, uuid, state, pid, QEMU version, stale") { json };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var domains = await client.DomainsAsync().ConfigureAwait(false);
            if (parsed.GetValue(json))
            {
                Output.WriteJson(Output.Array(domains, d => new JsonObject
                {
                    ["name"] = d.Name, ["uuid"] = d.Uuid, ["state"] = d.State, ["pid"] = d.Pid, ["qemuVersion"] = d.QemuVersion,
                    ["qemuBinary"] = d.QemuBinary, ["stale"] = d.Stale, ["staleReasons"] = Output.Strings(d.StaleReasons),
                    ["instanceId"] = d.InstanceId,
                }));
                return ExitCodes.Ok;
            }
            if (new PropertyReader(await client.Run(c => c.Manager.GetAllAsync()).ConfigureAwait(false)).Bool(Contract.ManagerContract.Maintenance))
                Console.WriteLine("host in maintenance: start and incoming migrations are refused ('localmigrate maintenance off' ends it)");
            Output.WriteTable(["NAME", "UUID", "STATE", "PID", "QEMU", "STALE"], domains.Select(d => (IReadOnlyList<string>)
                [d.Name, d.Uuid, d.State, d.Pid == 0 ? "-" : d.Pid.ToString(), d.QemuVersion.Length == 0 ? "-" : d.QemuVersion, d.Stale ? "yes" : "no"]));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
