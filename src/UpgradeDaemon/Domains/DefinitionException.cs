namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>A definition was refused; <see cref="Errors"/> names every bad field at once.</summary>
public sealed class DefinitionException(IReadOnlyList<DefinitionError> errors)
    : Exception("invalid domain definition: " + string.Join("; ", errors))
{
    public IReadOnlyList<DefinitionError> Errors { get; } = errors;
}
