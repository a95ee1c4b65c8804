using LocalMigrate.UpgradeDaemon.Migration;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// One migration option as the a{sv} of Migrate/Upgrade carries it: its canonical key, Salt's name for it (if any),
/// how a value is read (null: a bad value) and how it sets <see cref="MigrationOptions"/>.
/// </summary>
/// <param name="Parse">The canonical value of a value given under the canonical key; null when it is bad.</param>
/// <param name="ParseAlias">The same for a value given under <paramref name="Alias"/> (which may use other units).</param>
/// <param name="Expected">What a good value looks like, for the error.</param>
/// <param name="AliasExpected">The same under the alias.</param>
internal sealed record MigrationOptionKey(
    string Key, string? Alias, Func<object, object?> Parse, Func<object, object?> ParseAlias, string Expected, string AliasExpected,
    Func<MigrationOptions, object, MigrationOptions> Apply)
{
    /// <summary>"key" or "key (alias)": how an error names the option.</summary>
    public string Name => Alias is null ? Key : $"{Key} ({Alias})";
}
