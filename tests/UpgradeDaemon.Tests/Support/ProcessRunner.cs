using System.Diagnostics;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Runs a program to its end and collects what it printed: the one way the tests spawn helpers.</summary>
internal static class ProcessRunner
{
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> args, IDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromMinutes(5));
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a set-up step that must succeed.</summary>
    public static CommandResult Run(string program, params string[] args)
    {
        var result = RunAsync(program, args).GetAwaiter().GetResult();
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: {result}");
        return result;
    }
}
