namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>A certificate or key of the PKI directory is missing or unreadable; the message names the file.</summary>
internal sealed class PeerPkiException : Exception
{
    public PeerPkiException(string message) : base(message)
    {
    }

    public PeerPkiException(string message, Exception inner) : base(message, inner)
    {
    }
}
