using System.CommandLine;
using System.Text.Json.Nodes;
using LocalMigrate.Contract;

namespace LocalMigrate.Cli.Commands;

/// <summary>
/// <c>localmigrate host [--json]</c>: the daemon of this host as a fleet tool sees it (its version, the QEMU binary new
/// VMs and upgrades use, the maintenance flag, the migrations it runs at once). The Ansible facts module reads it.
/// </summary>
internal static class HostCommand
{
    public static Command Create(Option<string> bus)
    {
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var command = new Command("host", "this host's daemon: version, QEMU binary, maintenance, parallel migrations") { json };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var manager = new PropertyReader(await client.Run(c => c.Manager.GetAllAsync()).ConfigureAwait(false));
            var version = manager.String(ManagerContract.Version);
            var qemu = manager.String(ManagerContract.QemuBinary);
            var maintenance = manager.Bool(ManagerContract.Maintenance);
            var parallel = manager.UInt32(ManagerContract.MaxParallelMigrations);
            if (parsed.GetValue(json))
            {
                Output.WriteJson(new JsonObject
                {
                    ["daemonVersion"] = version, ["qemuBinary"] = qemu, ["maintenance"] = maintenance, ["maxParallelMigrations"] = parallel,
                });
                return ExitCodes.Ok;
            }
            Output.WriteTable(["FIELD", "VALUE"],
            [
                ["daemon", version], ["QEMU binary", qemu], ["maintenance", maintenance ? "on" : "off"], ["parallel migrations", parallel.ToString()],
            ]);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
