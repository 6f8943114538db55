using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Tests;

/// <summary>Keeps every log line, so a test can assert on warnings and show them when it fails.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception)));

    public override string ToString() => string.Join(Environment.NewLine, Lines.Select(l => $"{l.Level}: {l.Message}"));
}
