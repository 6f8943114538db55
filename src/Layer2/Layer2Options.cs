namespace BareLb.Layer2;

public sealed class Layer2Options
{
    /// <summary>Interfaces never used unless named explicitly; a trailing '*' matches any suffix.</summary>
    public IReadOnlyList<string> ExcludedInterfaces { get; init; } = InterfacePolicy.DefaultExcluded;

    /// <summary>Offsets of the announcements after a takeover; the first should be zero.</summary>
    public IReadOnlyList<TimeSpan> AnnouncementBurst { get; init; } = AnnouncementSchedule.DefaultBurst;

    /// <summary>Re-announce every owned address this often after the burst (for switches whose tables age out); null: never.</summary>
    public TimeSpan? RefreshInterval { get; init; }
}
