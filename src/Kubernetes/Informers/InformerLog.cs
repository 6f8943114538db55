using k8s;
using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.Informers;

internal static partial class InformerLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Informer {Informer}: listed {Count} objects at resourceVersion {ResourceVersion} ({Added} added, {Updated} updated, {Deleted} deleted)")]
    public static partial void Listed(ILogger logger, string informer, int count, string resourceVersion, int added, int updated, int deleted);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Informer {Informer}: list failed, retrying in {Delay}")]
    public static partial void ListFailed(ILogger logger, string informer, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Informer {Informer}: continue token expired during a paged list, restarting the list {How}")]
    public static partial void ContinueExpired(ILogger logger, string informer, string how);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Informer {Informer}: watch from resourceVersion {ResourceVersion} expired (410), relisting in {Delay}")]
    public static partial void WatchExpired(ILogger logger, string informer, string resourceVersion, TimeSpan delay);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Informer {Informer}: watch failed after {Events} events, reconnecting from resourceVersion {ResourceVersion} in {Delay}")]
    public static partial void WatchFailed(ILogger logger, string informer, int events, string resourceVersion, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Debug, Message = "Informer {Informer}: watch closed by the server after {Events} events, reconnecting from resourceVersion {ResourceVersion} in {Delay}")]
    public static partial void WatchClosed(ILogger logger, string informer, int events, string resourceVersion, TimeSpan delay);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "Informer {Informer}: watch silent for {Timeout}, restarting it from resourceVersion {ResourceVersion}")]
    public static partial void WatchSilent(ILogger logger, string informer, TimeSpan timeout, string resourceVersion);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Informer {Informer}: synced")]
    public static partial void Synced(ILogger logger, string informer);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Error, Message = "Informer {Informer}: handler {Handler} failed on {Change} of {Key}")]
    public static partial void HandlerFailed(ILogger logger, string informer, string handler, string change, string key, Exception exception);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Warning, Message = "Informer {Informer}: ignored a {EventType} watch event without an object name")]
    public static partial void MalformedEvent(ILogger logger, string informer, WatchEventType eventType);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Error, Message = "Informer {Informer}: {Key} (resourceVersion {ResourceVersion}) cannot be read and is skipped; every other object syncs: {Error}")]
    public static partial void Unreadable(ILogger logger, string informer, string key, string resourceVersion, string error);
}
