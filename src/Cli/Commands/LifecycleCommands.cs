using LocalMigrate.Contract.Client;
using System.CommandLine;
using LocalMigrate.Contract;

namespace LocalMigrate.Cli.Commands;

/// <summary>The one-call commands on a domain: undefine, start, stop, cancel.</summary>
internal static class LifecycleCommands
{
    public static Command Undefine(Option<string> bus) =>
        Simple(bus, "undefine", "remove a stopped domain's definition", d => d.UndefineAsync(), "undefined");

    public static Command Start(Option<string> bus) => Simple(bus, "start", "boot a domain", d => d.StartAsync(), "started");

    /// <summary>
    /// On the source: the domain's running job. On the destination of a remote migration, where the domain is not
    /// visible yet (or only as a stopped copy): its incoming target is killed, and the source rolls back.
    /// </summary>
    public static Command Cancel(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var command = new Command("cancel", "cancel the running migration, here or (on the destination host) the incoming one; the source keeps running") { name };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var domain = parsed.GetValue(name)!;
            try
            {
                var path = await client.DomainPathAsync(domain).ConfigureAwait(false);
                await client.Run(c => c.Domain(path).CancelAsync()).ConfigureAwait(false);
                Console.WriteLine($"cancel requested for {domain}");
                return ExitCodes.Ok;
            }
            catch (CliException e) when (e.ExitCode is ExitCodes.NoSuchDomain or ExitCodes.Failed)
            {
                var job = await TryCancelIncomingAsync(client, domain).ConfigureAwait(false);
                if (job is null)
                    throw;
                Console.WriteLine($"cancelled the incoming migration of {domain} (job {job}): its target here is gone, the source keeps the guest");
                return ExitCodes.Ok;
            }
        }));
        return command;
    }

    /// <returns>The cancelled incoming job, or null when this host has none for the domain (the first error stands).</returns>
    private static async Task<string?> TryCancelIncomingAsync(DaemonClient client, string domain)
    {
        try
        {
            return await client.Run(c => c.Peer.CancelIncomingAsync(domain)).ConfigureAwait(false);
        }
        catch (CliException)
        {
            return null;
        }
    }

    public static Command StartPostcopy(Option<string> bus) =>
        Simple(bus, "migrate-postcopy", "switch the running migration to postcopy: the guest runs on the target at once and fetches the rest " +
            "(the migration must have been started with --postcopy)", d => d.StartPostcopyAsync(), "postcopy requested for");

    public static Command Stop(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var force = new Option<bool>("--force") { Description = "quit QEMU at once instead of an ACPI power-off" };
        var command = new Command("stop", "power a domain off (ACPI, with timeout), or kill it with --force") { name, force };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = await client.DomainPathAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            await client.Run(c => c.Domain(path).StopAsync(parsed.GetValue(force))).ConfigureAwait(false);
            Console.WriteLine($"stopped {parsed.GetValue(name)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Simple(Option<string> bus, string verb, string description, Func<DomainClient, Task> call, string done)
    {
        var name = new Argument<string>("NAME");
        var command = new Command(verb, description) { name };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = await client.DomainPathAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            await client.Run(c => call(c.Domain(path))).ConfigureAwait(false);
            Console.WriteLine($"{done} {parsed.GetValue(name)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
