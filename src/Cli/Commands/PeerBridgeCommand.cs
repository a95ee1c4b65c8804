using System.CommandLine;
using LocalMigrate.Contract.Client;
using LocalMigrate.Contract.Peer;

namespace LocalMigrate.Cli.Commands;

/// <summary>
/// <c>localmigrate peer-bridge</c>: what a source daemon runs on this host through ssh. It carries the D-Bus
/// connection on stdin/stdout to this host's bus (see <see cref="BusBridge"/>), so the source calls this host's
/// daemon with the ssh user's identity and the bus policy applies as to any local caller. Not for people.
/// </summary>
internal static class PeerBridgeCommand
{
    public static Command Create(Option<string> bus)
    {
        var command = new Command("peer-bridge", "carry a peer daemon's D-Bus connection on stdin/stdout to this host's daemon (run by ssh)")
        {
            Hidden = true,
        };
        command.SetAction(parsed =>
        {
            string address;
            try
            {
                address = BusAddresses.Resolve(parsed.GetValue(bus)!);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"localmigrate peer-bridge: {e.Message}");
                return ExitCodes.Usage;
            }
            var stream = new DuplexStream(Console.OpenStandardInput(), Console.OpenStandardOutput());
            string? refused = null;
            try
            {
                BusBridge.RunAsync(stream, address, why => refused = why, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ArgumentException)
            {
                Console.Error.WriteLine($"localmigrate peer-bridge: cannot reach the bus at {address}: {e.Message}");
                return ExitCodes.Failed;
            }
            if (refused is not null)
            {
                Console.Error.WriteLine($"localmigrate peer-bridge: {refused}");
                return ExitCodes.Failed;
            }
            return 0;
        });
        return command;
    }
}
