namespace LocalMigrate.Interop.Systemd;

/// <summary>
/// A D-Bus error reply. Thrown by a method handler, it becomes that error on the wire; thrown by
/// <see cref="BusConnection.CallAsync"/>, it carries the error the peer (or the bus driver) replied with.
/// </summary>
public sealed class BusErrorException : Exception
{
    public BusErrorException(string errorName, string message)
        : base(message)
    {
        ErrorName = errorName;
    }

    public BusErrorException(string errorName, string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorName = errorName;
    }

    /// <summary>The D-Bus error name, e.g. <c>org.localmigrate1.Error.NoSuchDomain</c>.</summary>
    public string ErrorName { get; }

    public override string ToString() => $"{ErrorName}: {Message}";
}
