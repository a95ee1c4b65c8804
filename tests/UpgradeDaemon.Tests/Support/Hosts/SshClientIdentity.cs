namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>
/// What an ssh client of the test hosts uses: a key pair made for this fixture and a known_hosts file that lists
/// exactly the fixture's hosts, so ssh runs without a prompt (BatchMode) and refuses any host key it has not been
/// given (StrictHostKeyChecking). <c>-F /dev/null</c> keeps this machine's ssh configuration out of the tests.
/// </summary>
internal sealed class SshClientIdentity
{
    private readonly Lock _knownHostsGate = new();

    private SshClientIdentity(string directory)
    {
        KeyFile = Path.Combine(directory, "client_ed25519");
        KnownHostsFile = Path.Combine(directory, "known_hosts");
    }

    /// <summary>The private key; its public half is <see cref="PublicKey"/>.</summary>
    public string KeyFile { get; }

    public string KnownHostsFile { get; }

    /// <summary>The <c>authorized_keys</c> line that lets this client in.</summary>
    public string PublicKey => File.ReadAllText(KeyFile + ".pub").Trim();

    /// <summary>ssh's arguments before the destination. Paths are under /tmp/lmnet-ID: no spaces, no quoting needed.</summary>
    public IReadOnlyList<string> Options =>
    [
        "-F", "/dev/null", "-i", KeyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", $"UserKnownHostsFile={KnownHostsFile}", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=15",
    ];

    /// <summary>The ssh command line for the daemon's <c>remote.sshCommand</c>.</summary>
    public string Command => string.Join(' ', ["ssh", .. Options]);

    public static async Task<SshClientIdentity> CreateAsync(string directory)
    {
        var identity = new SshClientIdentity(directory);
        await SshKeys.GenerateAsync(identity.KeyFile, "localmigrate-test-client");
        await File.WriteAllTextAsync(identity.KnownHostsFile, "");
        return identity;
    }

    /// <summary>Adds a host's key for its address to known_hosts.</summary>
    public void TrustHost(string address, string hostPublicKey)
    {
        // known_hosts wants "address keytype base64": the key file's comment is dropped.
        var keyTypeAndKey = string.Join(' ', hostPublicKey.Split(' ').Take(2));
        lock (_knownHostsGate)
            File.AppendAllText(KnownHostsFile, $"{address} {keyTypeAndKey}\n");
    }
}
