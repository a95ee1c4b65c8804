namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>Runs a repository script and returns the last line it printed (the scripts' contract).</summary>
internal static class ScriptRunner
{
    public static string RunForLastLine(string script, params string[] args)
    {
        var result = ProcessRunner.RunAsync("bash", new[] { System.IO.Path.Combine(RepositoryRoot.Path, script) }.Concat(args), timeout: TimeSpan.FromMinutes(15))
            .GetAwaiter().GetResult();
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed ({result.ExitCode}): {result.Stderr}");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
    }
}
