using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;

/// <summary>A test's output with every line marked by the host it came from: two daemons log into one test.</summary>
internal sealed class PrefixedTestOutput(ITestOutputHelper inner, string prefix) : ITestOutputHelper
{
    public void WriteLine(string message) => inner.WriteLine(prefix + message);

    public void WriteLine(string format, params object[] args) => inner.WriteLine(prefix + string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
}
