using Microsoft.Extensions.Logging;

namespace BareLb.Layer2;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Announcing {Address} on {Interfaces}")]
    public static partial void Announcing(ILogger logger, string address, string interfaces);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "No allowed interface for {Address} (requested: {Requested})")]
    public static partial void NoAllowedInterface(ILogger logger, string address, string requested);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Stopped announcing {Address}")]
    public static partial void Released(ILogger logger, string address);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Answering on {Interface} ({Kind})")]
    public static partial void ChannelOpened(ILogger logger, string @interface, FrameKind kind);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "No longer answering on {Interface} ({Kind})")]
    public static partial void ChannelClosed(ILogger logger, string @interface, FrameKind kind);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "Cannot answer on {Interface} ({Kind})")]
    public static partial void ChannelFailed(ILogger logger, string @interface, FrameKind kind, Exception exception);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Cannot join solicited-node group {Group} on {Interface}; switches with MLD snooping may not deliver solicitations for it")]
    public static partial void JoinFailed(ILogger logger, string group, string @interface);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Debug, Message = "Links changed: {Links}")]
    public static partial void LinksChanged(ILogger logger, string links);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Error, Message = "Receive loop {Channel} stopped: {Error}")]
    public static partial void ReceiveLoopStopped(ILogger logger, string channel, string error);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Error, Message = "Receive loop {Channel} failed on a frame ({Failures} so far)")]
    public static partial void HandlerFailed(ILogger logger, string channel, long failures, Exception exception);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Error, Message = "Receive loop {Channel} did not stop within 5 s")]
    public static partial void ReceiveLoopStuck(ILogger logger, string channel);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Layer 2 announcer started: {Links} links, usable for all-interface addresses: {Usable}")]
    public static partial void Started(ILogger logger, int links, string usable);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Error, Message = "Link monitor failed; listing the links again in 1 s")]
    public static partial void LinkMonitorFailed(ILogger logger, Exception exception);
}
