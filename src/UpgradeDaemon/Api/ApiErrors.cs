using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>Maps the engine's exceptions onto org.localmigrate1.Error.* names, keeping their operator-facing message.</summary>
internal static class ApiErrors
{
    public static BusErrorException From(Exception e) => e switch
    {
        BusErrorException bus => bus,
        DefinitionException => new BusErrorException(BusContract.Errors.InvalidDefinition, e.Message),
        DomainNotFoundException => new BusErrorException(BusContract.Errors.NoSuchDomain, e.Message),
        DomainExistsException => new BusErrorException(BusContract.Errors.Exists, e.Message),
        DomainBusyException or MigrationBusyException => new BusErrorException(BusContract.Errors.Busy, e.Message),
        Remote.PeerRefusedException or Evacuation.HostMaintenanceException => new BusErrorException(BusContract.Errors.Refused, e.Message),
        InstanceStartException or QemuBinaryException => new BusErrorException(BusContract.Errors.StartFailed, e.Message),
        ArgumentException => new BusErrorException(BusContract.Errors.InvalidArgument, e.Message),
        IOException or UnauthorizedAccessException => new BusErrorException(BusContract.Errors.StateWriteFailed,
            $"cannot write state: {e.Message}; nothing was changed"),
        _ => new BusErrorException(BusContract.Errors.Failed, e.Message),
    };

    /// <summary>Runs a handler body, turning any exception into a D-Bus error reply.</summary>
    public static async Task<object?[]> Guard(Func<Task<object?[]>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw From(e);
        }
    }
}
