using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.Events;

internal static partial class EventRecorderLog
{
    [LoggerMessage(EventId = 2300, Level = LogLevel.Warning, Message = "Event queue full: dropped the oldest pending events ({Dropped} dropped so far)")]
    public static partial void Dropped(ILogger logger, long dropped);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "Could not record {Type} event {Reason} for {Kind} {Object}: {Message}")]
    public static partial void RecordFailed(ILogger logger, string type, string reason, string? kind, string @object, string message, Exception exception);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Debug, Message = "Recorded {Type} event {Reason} for {Kind} {Object} as {EventName} (count {Count})")]
    public static partial void Recorded(ILogger logger, string type, string reason, string? kind, string @object, string eventName, int count);
}
