using Spectre.Console;

namespace LocalMigrate.Cli;

/// <summary>
/// Shows jobs moving: a live progress bar per job on a terminal, plain lines otherwise. Both show QEMU's figures as
/// they are: pass count, data left (with ↑ when a pass found more dirty RAM than the last one left), the rate, the
/// guest's dirty rate and the expected downtime. The bar goes back when remaining grows; it does not pretend.
/// </summary>
internal static class ProgressDisplay
{
    public static async Task<IReadOnlyList<JobInfo>> FollowAsync(JobWatcher watcher, IReadOnlyList<string> paths, bool showProgress)
    {
        if (!showProgress)
        {
            watcher.OnlyStateChanges = true;
            return await watcher.WaitAsync(paths, _ => { }, CancellationToken.None).ConfigureAwait(false);
        }
        if (!Output.IsTerminal)
            return await watcher.WaitAsync(paths, PlainLines(), CancellationToken.None).ConfigureAwait(false);

        IReadOnlyList<JobInfo> result = [];
        var remaining = new Dictionary<string, ulong>();
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = await watcher.WaitAsync(paths, jobs =>
                {
                    foreach (var job in jobs)
                    {
                        if (!tasks.TryGetValue(job.Path, out var task))
                            tasks[job.Path] = task = context.AddTask(job.Domain, maxValue: 100);
                        task.Description = $"{Markup.Escape(job.Domain)} [grey]{Markup.Escape(Figures(job, Previous(remaining, job)))}[/]";
                        task.Value = job.IsRunning ? job.Progress : task.MaxValue;
                        if (!job.IsRunning)
                            task.StopTask();
                    }
                }, CancellationToken.None).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result;
    }

    /// <summary>"Perform pass 17, 98.0 MiB left ↑, 120.0 MiB/s, guest dirties 3.0 MiB/s, expected downtime 40 ms".</summary>
    /// <param name="previousRemaining">Remaining at the last reading of the same job, to show a regression.</param>
    public static string Figures(JobInfo job, ulong? previousRemaining)
    {
        if (job.Passes == 0)
            return job.ConvergeAction.Length > 0 ? $"{job.Phase} ({job.ConvergeAction})" : job.Phase;
        var grew = previousRemaining is { } before && job.DataRemaining > before ? " ↑" : "";
        var figures = $"{job.Phase} pass {job.Passes}, {Output.Bytes(job.DataRemaining)} left{grew}, {Output.Bytes(job.TransferRate)}/s";
        if (job.DirtyRate > 0)
            figures += $", guest dirties {Output.Bytes(job.DirtyRate)}/s";
        if (job.ExpectedDowntimeMs > 0)
            figures += $", expected downtime {job.ExpectedDowntimeMs} ms";
        if (job.CpuThrottlePercent > 0)
            figures += $", throttled {job.CpuThrottlePercent}%";
        if (job.ConvergeAction.Length > 0)
            figures += $" ({job.ConvergeAction})";
        if (job.Transfer == Contract.BusContract.Transfers.Paused)
            figures += " (guest paused for the copy)";
        return figures;
    }

    /// <summary>Remaining at the job's last reading in the copy (none before the first pass).</summary>
    private static ulong? Previous(Dictionary<string, ulong> remaining, JobInfo job)
    {
        ulong? previous = remaining.TryGetValue(job.Path, out var before) ? before : null;
        if (job.Passes > 0)
            remaining[job.Path] = job.DataRemaining;
        return previous;
    }

    private static Action<IReadOnlyList<JobInfo>> PlainLines()
    {
        // A line when something an operator follows moves (state, phase, whole percent, pass, action), not on every rate wobble.
        var last = new Dictionary<string, string>();
        var remaining = new Dictionary<string, ulong>();
        return jobs =>
        {
            foreach (var job in jobs)
            {
                var figures = Figures(job, Previous(remaining, job));
                var key = $"{job.State} {job.Phase} {job.Progress:0} {job.Passes} {job.ConvergeAction} {figures.Contains('↑')}";
                if (last.GetValueOrDefault(job.Path) != key)
                    Console.Error.WriteLine($"{job.Domain}: {job.State} {job.Progress:0}% {figures}");
                last[job.Path] = key;
            }
        };
    }
}
