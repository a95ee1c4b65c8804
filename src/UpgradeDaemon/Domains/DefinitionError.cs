namespace LocalMigrate.UpgradeDaemon.Domains;

/// <param name="Field">The JSON path of the offending field, e.g. <c>disks[0].path</c>.</param>
public sealed record DefinitionError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
