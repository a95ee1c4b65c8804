using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// The engine's enums as the contract's state strings (<see cref="BusContract.DomainStates"/>, ...): the lower-case
/// member name, which a test checks against the contract's lists for every member, so a new enum member cannot
/// reach the bus without the contract naming it.
/// </summary>
internal static class ContractStrings
{
    public static string Of(DomainState state) => state.ToString().ToLowerInvariant();

    public static string Of(MigrationJobState state) => state.ToString().ToLowerInvariant();

    public static string Of(MigrationKind kind) => kind.ToString().ToLowerInvariant();

    public static string Of(Snapshots.SnapshotStatus status) => status.ToString().ToLowerInvariant();
}
