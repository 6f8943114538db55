namespace BareLb.Kubernetes.Events;

/// <summary>core/v1 Event types.</summary>
public enum EventType { Normal, Warning }

public sealed class EventRecorderOptions
{
    /// <summary>Who reports, e.g. "barelb-controller": Event source.component and reportingComponent.</summary>
    public string Component { get; set; } = "";

    /// <summary>Which instance reports (node or pod name): source.host and reportingInstance.</summary>
    public string? Host { get; set; }

    /// <summary>A repeat of an Event within this time of its previous occurrence bumps the existing Event's count instead of creating a new one.</summary>
    public TimeSpan AggregationWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Events waiting to be written; when full, the oldest is dropped.</summary>
    public int QueueCapacity { get; set; } = 1000;

    /// <summary>Distinct Events remembered for aggregation; beyond this the least recently seen are forgotten.</summary>
    public int MaxTrackedEvents { get; set; } = 4096;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Component))
        {
            throw new ArgumentException("Component must name the reporting component (e.g. \"barelb-controller\")", nameof(Component));
        }
        if (AggregationWindow < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AggregationWindow), AggregationWindow, "AggregationWindow must not be negative");
        }
        if (QueueCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "QueueCapacity must be at least 1");
        }
        if (MaxTrackedEvents < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTrackedEvents), MaxTrackedEvents, "MaxTrackedEvents must be at least 1");
        }
    }
}
