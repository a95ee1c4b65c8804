namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>Answers a call with the D-Bus error <paramref name="errorName"/> and the operator-facing message.</summary>
internal sealed class BusErrorException(string errorName, string message) : Exception(message)
{
    public string ErrorName => errorName;
}
