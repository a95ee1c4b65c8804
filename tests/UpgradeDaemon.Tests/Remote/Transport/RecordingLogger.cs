using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using LocalMigrate.UpgradeDaemon.Remote.Transport;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

/// <summary>Keeps every line the listener logs (to assert why a peer was refused) and shows it in the test output.</summary>
internal sealed class RecordingLogger(ITestOutputHelper output) : ILogger<PeerListener>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception) + (exception is null ? "" : $" [{exception.GetType().Name}: {exception.Message}]");
        _lines.Enqueue((logLevel, message));
        try
        {
            output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {message}");
        }
        catch (InvalidOperationException)
        {
            // The test already ended.
        }
    }
}
