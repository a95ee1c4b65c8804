using System.Diagnostics;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>A non-root system user made by the tests, and commands run as that user (setpriv).</summary>
internal static class TestUser
{
    public static void Ensure(string name)
    {
        using var id = Process.Start(new ProcessStartInfo("id", name) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        id.WaitForExit();
        if (id.ExitCode == 0)
            return;
        using var add = Process.Start("useradd", $"--system --no-create-home --shell /usr/sbin/nologin {name}");
        add.WaitForExit();
        Assert.Equal(0, add.ExitCode);
    }

    public static async Task<string> RunAsync(string user, params string[] command)
    {
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--reuid={user}", $"--regid={user}", "--clear-groups", "--reset-env" }.Concat(command))
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return stdout + stderr;
    }
}
