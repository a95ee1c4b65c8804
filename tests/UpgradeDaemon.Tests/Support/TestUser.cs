namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>A non-root system user made by the tests, and commands run as that user (setpriv).</summary>
internal static class TestUser
{
    public static void Ensure(string name)
    {
        if (ProcessRunner.RunAsync("id", [name]).GetAwaiter().GetResult().ExitCode != 0)
            ProcessRunner.Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name);
    }

    /// <returns>stdout and stderr together (busctl and gdbus print errors on either).</returns>
    public static async Task<string> RunAsync(string user, params string[] command)
    {
        var result = await ProcessRunner.RunAsync("setpriv", new[] { $"--reuid={user}", $"--regid={user}", "--clear-groups", "--reset-env" }.Concat(command));
        return result.Stdout + result.Stderr;
    }
}
