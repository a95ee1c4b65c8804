using System.Diagnostics;
using System.Text;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>
/// Debian's sshd inside a test host, in the foreground, on the host's address port 22, with a host key made for
/// this fixture. It lets root in by key only, from one authorized_keys file, and puts <see cref="Environment"/> into
/// every session (<c>SetEnv</c>): a command run over ssh, such as the CLI's peer bridge, reaches that host's daemon.
/// Independent of any system sshd: own config, own key, no pid file, and a namespace of its own for the port.
/// </summary>
internal sealed class SshServer : IAsyncDisposable
{
    private const string Program = "/usr/sbin/sshd";
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private SshServer(Process process, string hostPublicKey)
    {
        _process = process;
        HostPublicKey = hostPublicKey;
    }

    /// <summary>The host key's public half (<c>ssh-ed25519 BASE64 COMMENT</c>), for known_hosts.</summary>
    public string HostPublicKey { get; }

    /// <summary>What sshd logged (-e: to stderr): accepted and refused logins, with reasons.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <param name="directory">Where the host key and config go (a new directory of the fixture's).</param>
    /// <param name="environment">Variables every session gets, e.g. LOCALMIGRATE_BUS.</param>
    public static async Task<SshServer> StartAsync(NetworkHost host, string directory, string authorizedKeysFile, IReadOnlyDictionary<string, string> environment)
    {
        Assert.True(File.Exists(Program), $"{Program} is missing: run tests/setup.sh (openssh-server)");
        Directory.CreateDirectory(directory);
        var hostKey = Path.Combine(directory, "ssh_host_ed25519_key");
        await SshKeys.GenerateAsync(hostKey, $"localmigrate-test-{host.Label}");
        var config = Path.Combine(directory, "sshd_config");
        var setEnv = string.Join(' ', environment.Select(e => $"\"{e.Key}={e.Value}\""));
        await File.WriteAllTextAsync(config, $"""
            ListenAddress {host.Address}:22
            HostKey {hostKey}
            PidFile none
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            AuthorizedKeysFile {authorizedKeysFile}
            # The fixture's files sit under /tmp, which StrictModes would reject as a world-writable path.
            StrictModes no
            # No PAM stack to configure for a test: keys are checked by sshd itself.
            UsePAM no
            {(setEnv.Length > 0 ? "SetEnv " + setEnv : "")}

            """);
        // Debian's sshd refuses to start without its privilege-separation directory, which only the openssh-server
        // service (absent where nothing runs systemd) would create.
        Directory.CreateDirectory("/run/sshd");

        var start = new ProcessStartInfo(host.Exec[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in host.Exec.Skip(1).Concat([Program, "-D", "-e", "-f", config]))
            start.ArgumentList.Add(a);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(start)!;
        var server = new SshServer(process, (await File.ReadAllTextAsync(hostKey + ".pub")).Trim());
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException($"sshd in {host.Namespace} exited: {server.Log}"));
                return;
            }
            lock (server._log)
                server._log.AppendLine(e.Data);
            // sshd prints this once the socket is bound: a client connecting after it finds the port open.
            if (e.Data.StartsWith("Server listening on", StringComparison.Ordinal))
                listening.TrySetResult();
        };
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // sshd is the process itself (ip netns exec execs it); its session children die with their connections.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
