using System.CommandLine;
using LocalMigrate.Contract;

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
            var domain = DomainInfo.From(await client.Run(async c => await c.Domain(await c.Manager.DefineAsync(json).ConfigureAwait(false)).GetAllAsync()
                .ConfigureAwait(false)).ConfigureAwait(false));
            Console.WriteLine($"defined {domain.Name} (uuid {domain.Uuid}, machine {domain.Machine})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
