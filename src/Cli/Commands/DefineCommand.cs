using System.CommandLine;
using LocalMigrate.Contract;
using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Cli.Commands;

internal static class DefineCommand
{
    public static Command Create(Option<string> bus)
    {
        var file = new Argument<string>("FILE") { Description = "domain definition (JSON, schemaVersion 1); - for stdin" };
        var command = new Command("define", "store a domain definition") { file };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = parsed.GetValue(file)!;
            var json = await DefinitionFile.ReadAsync(path).ConfigureAwait(false);
            var result = await client.CallAsync(BusContract.ManagerPath, BusContract.ManagerInterface, "Define", "s", json).ConfigureAwait(false);
            var domain = await client.GetAllAsync(((BusObjectPath)result[0]).Value, BusContract.DomainInterface).ConfigureAwait(false);
            Console.WriteLine($"defined {domain["Name"]} (uuid {domain["Uuid"]}, machine {domain["Machine"]})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
