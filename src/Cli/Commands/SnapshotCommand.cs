using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using LocalMigrate.Contract;
using LocalMigrate.Contract.Client;

namespace LocalMigrate.Cli.Commands;

/// <summary><c>snapshot create|list|revert|delete</c>: qcow2 internal snapshots of a domain.</summary>
internal static class SnapshotCommand
{
    public static Command Create(Option<string> bus) =>
        new("snapshot", "qcow2 internal snapshots of a domain: with the VM state, or of its disks only")
        {
            CreateVerb(bus), ListVerb(bus),
            OnSnapshot(bus, "revert", "return the domain to a snapshot (VM state: while it runs; disk-only: while it is shut off)",
                (d, s) => d.RevertSnapshotAsync(s), "reverted"),
            OnSnapshot(bus, "delete", "delete a snapshot from every image that holds it, and its record", (d, s) => d.DeleteSnapshotAsync(s), "deleted"),
        };

    private static Command CreateVerb(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var snapshot = new Argument<string>("SNAP");
        var diskOnly = new Option<bool>("--disk-only") { Description = "the disks alone, without RAM and device state (works while shut off too)" };
        var command = new Command("create", "take a snapshot; without --disk-only the running guest's RAM and devices are saved too")
            { name, snapshot, diskOnly };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = await client.DomainPathAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            await client.Run(c => c.Domain(path).CreateSnapshotAsync(parsed.GetValue(snapshot)!, parsed.GetValue(diskOnly))).ConfigureAwait(false);
            Console.WriteLine($"created snapshot {parsed.GetValue(snapshot)} of {parsed.GetValue(name)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ListVerb(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var command = new Command("list", "every snapshot: the daemon's record checked against each image (status ok, missing, untracked)")
            { name, json };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = await client.DomainPathAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            var entries = await client.Run(c => c.Domain(path).ListSnapshotsAsync()).ConfigureAwait(false);
            if (parsed.GetValue(json))
            {
                Output.WriteJson(Output.Array(entries, e => new JsonObject
                {
                    ["name"] = e.Name, ["created"] = Created(e).ToString("O", CultureInfo.InvariantCulture), ["vmState"] = e.VmState,
                    ["status"] = e.Status, ["disks"] = Output.Strings(e.Disks), ["missingFrom"] = Output.Strings(e.MissingFrom),
                }));
                return ExitCodes.Ok;
            }
            Output.WriteTable(["NAME", "CREATED", "KIND", "STATUS", "DISKS"], entries.Select(e => (IReadOnlyList<string>)
            [
                e.Name, Created(e).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture), e.VmState ? "vm-state" : "disk-only",
                e.Status == BusContract.SnapshotStatuses.Missing ? $"missing from {string.Join(",", e.MissingFrom)}" : e.Status,
                string.Join(",", e.Disks),
            ]));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command OnSnapshot(Option<string> bus, string verb, string description, Func<DomainClient, string, Task> call, string done)
    {
        var name = new Argument<string>("NAME");
        var snapshot = new Argument<string>("SNAP");
        var command = new Command(verb, description) { name, snapshot };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var path = await client.DomainPathAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            await client.Run(c => call(c.Domain(path), parsed.GetValue(snapshot)!)).ConfigureAwait(false);
            Console.WriteLine($"{done} snapshot {parsed.GetValue(snapshot)} of {parsed.GetValue(name)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static DateTimeOffset Created(SnapshotEntry entry) => DateTimeOffset.FromUnixTimeSeconds((long)entry.Created);
}
