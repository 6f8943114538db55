using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.LeaderElection;

internal static partial class LeaderElectionLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Lease {Lease}: {Identity} became leader")]
    public static partial void Acquired(ILogger logger, string lease, string identity);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Lease {Lease}: {Identity} lost leadership to {Holder}")]
    public static partial void Lost(ILogger logger, string lease, string identity, string holder);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Lease {Lease}: {Identity} could not renew within {RenewDeadline}, stepping down")]
    public static partial void RenewDeadlineExceeded(ILogger logger, string lease, string identity, TimeSpan renewDeadline);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "Lease {Lease}: renewal by {Identity} failed, retrying")]
    public static partial void RenewFailed(ILogger logger, string lease, string identity, Exception exception);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Warning, Message = "Lease {Lease}: acquire attempt by {Identity} failed")]
    public static partial void AcquireFailed(ILogger logger, string lease, string identity, Exception exception);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Information, Message = "Lease {Lease}: {Identity} released the lease")]
    public static partial void Released(ILogger logger, string lease, string identity);

    [LoggerMessage(EventId = 2206, Level = LogLevel.Warning, Message = "Lease {Lease}: {Identity} could not release the lease; standbys take over when it expires")]
    public static partial void ReleaseFailed(ILogger logger, string lease, string identity, Exception? exception);

    [LoggerMessage(EventId = 2207, Level = LogLevel.Information, Message = "Lease {Lease}: leader is now {Holder}")]
    public static partial void NewLeader(ILogger logger, string lease, string holder);

    [LoggerMessage(EventId = 2208, Level = LogLevel.Error, Message = "Lease {Lease}: leader election callback {Callback} failed")]
    public static partial void CallbackFailed(ILogger logger, string lease, string callback, Exception exception);

    [LoggerMessage(EventId = 2209, Level = LogLevel.Error, Message = "Lease {Lease}: the work of leader {Identity} ended while it still led; stepping down")]
    public static partial void WorkEnded(ILogger logger, string lease, string identity);
}
