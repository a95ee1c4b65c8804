using System.Diagnostics;

namespace LocalMigrate.Interop.Tests.Journal;

/// <summary>Runs busctl, dbus-send and friends, optionally as another user via setpriv(1).</summary>
internal static class CommandRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string? asUser = null)
    {
        var start = new ProcessStartInfo(asUser is null ? file : "setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // busctl escapes non-ASCII output unless the locale is UTF-8.
        start.Environment["LC_ALL"] = "C.UTF-8";
        if (asUser is not null)
        {
            foreach (var a in new[] { $"--reuid={asUser}", $"--regid={asUser}", "--clear-groups", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
