using Spectre.Console;

namespace LocalMigrate.Cli;

/// <summary>Shows jobs moving: a live progress bar per job on a terminal (data remaining, rate, phase), plain lines otherwise.</summary>
internal static class ProgressDisplay
{
    public static async Task<IReadOnlyList<JobInfo>> FollowAsync(JobWatcher watcher, IReadOnlyList<string> paths, bool showProgress)
    {
        if (!showProgress)
            return await watcher.WaitAsync(paths, _ => { }, CancellationToken.None).ConfigureAwait(false);
        if (!Output.IsTerminal)
            return await watcher.WaitAsync(paths, PlainLines(), CancellationToken.None).ConfigureAwait(false);

        IReadOnlyList<JobInfo> result = [];
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = await watcher.WaitAsync(paths, jobs =>
                {
                    foreach (var job in jobs)
                    {
                        if (!tasks.TryGetValue(job.Path, out var task))
                            tasks[job.Path] = task = context.AddTask(job.Domain, maxValue: 100);
                        task.Description = $"{Markup.Escape(job.Domain)} [grey]{job.Phase} {Output.Bytes(job.DataRemaining)} left[/]";
                        // Counted in bytes, so the rate column shows the real transfer rate.
                        if (job.DataTotal > 0)
                            task.MaxValue = job.DataTotal;
                        task.Value = !job.IsRunning ? task.MaxValue : job.DataTotal > 0 ? job.DataTotal - job.DataRemaining : 0;
                        if (!job.IsRunning)
                            task.StopTask();
                    }
                }, CancellationToken.None).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result;
    }

    private static Action<IReadOnlyList<JobInfo>> PlainLines()
    {
        var last = new Dictionary<string, string>();
        return jobs =>
        {
            foreach (var job in jobs)
            {
                var line = $"{job.Domain}: {job.State} {job.Phase} {job.Progress:0}% ({Output.Bytes(job.DataRemaining)} left)";
                if (last.GetValueOrDefault(job.Path) != line)
                    Console.Error.WriteLine(line);
                last[job.Path] = line;
            }
        };
    }
}
