namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>The destination definitely did not take the guest (it aborted, or never heard of the job): the source may resume.</summary>
public sealed class PeerCommitRefusedException(string message) : Exception(message);
