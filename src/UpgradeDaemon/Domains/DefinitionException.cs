namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>A definition was refused; <see cref="Errors"/> names every bad field at once.</summary>
public sealed class DefinitionException(IReadOnlyList<DefinitionError> errors) : Exception(MessageOf(errors))
{
    /// <summary>
    /// Errors shown in the message (which travels to the caller as one line); a document of 100,000 unknown keys
    /// must not become a 5 MB error reply.
    /// </summary>
    public const int ErrorsInMessage = 20;

    public IReadOnlyList<DefinitionError> Errors { get; } = errors;

    private static string MessageOf(IReadOnlyList<DefinitionError> errors) =>
        "invalid domain definition: " + string.Join("; ", errors.Take(ErrorsInMessage)) +
        (errors.Count > ErrorsInMessage ? $"; and {errors.Count - ErrorsInMessage} more" : "");
}
