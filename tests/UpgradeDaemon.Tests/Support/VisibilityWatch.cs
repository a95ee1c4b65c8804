using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// Samples what callers see of a domain while a migration runs, as fast as it can: every sample must show
/// exactly one instance, the source until the commit and the target after, never both, never none.
/// </summary>
internal sealed class VisibilityWatch : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<List<(int? Pid, int Listed)>> _samples;

    public VisibilityWatch(DomainRegistry registry, string name)
    {
        _samples = Task.Run(() =>
        {
            var samples = new List<(int?, int)>();
            while (!_stop.IsCancellationRequested)
            {
                var pid = registry.Find(name)?.Active?.Pid;
                var listed = registry.ActiveInstances().Count(i => i.Definition.Name == name);
                samples.Add((pid, listed));
                Thread.Sleep(1);
            }
            return samples;
        });
    }

    public void AssertOneInstanceAlwaysVisible(DomainInstance source, DomainInstance target)
    {
        _stop.Cancel();
        var samples = _samples.Result;
        Assert.NotEmpty(samples);
        Assert.All(samples, s => Assert.Equal(1, s.Listed));
        Assert.All(samples, s => Assert.True(s.Pid == source.Pid || s.Pid == target.Pid, $"saw pid {s.Pid}"));
        // Once the target is seen, the source never comes back.
        var firstTarget = samples.FindIndex(s => s.Pid == target.Pid);
        if (firstTarget >= 0)
            Assert.All(samples.Skip(firstTarget), s => Assert.Equal(target.Pid, s.Pid));
    }

    public void Dispose() => _stop.Cancel();
}
