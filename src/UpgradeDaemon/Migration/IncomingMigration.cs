using LocalMigrate.Interop.Qmp;
using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>A target instance between Prepare and Confirm, with the listener subscribed before migrate-incoming.</summary>
internal sealed record IncomingMigration(DomainInstance Target, QmpEventListener MigrationEvents);
