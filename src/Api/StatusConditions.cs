using BareLb.Api.Models;
using k8s;
using k8s.Models;

namespace BareLb.Api;

/// <summary>
/// Updates a status.conditions list the way apimachinery's meta.SetStatusCondition does. The CRD schemas require
/// type, status, reason, message (may be empty) and lastTransitionTime on every condition, as metav1.Condition
/// does, so conditions written through here are always accepted by the API server.
/// </summary>
public static class StatusConditions
{
    /// <summary>
    /// Sets the condition of <paramref name="type"/>. lastTransitionTime moves only when the status changes, so a
    /// controller that re-asserts the same state every resync does not make the condition look new.
    /// </summary>
    /// <returns>True when anything changed (the caller then has a status update to write).</returns>
    public static bool Set(
        List<Condition> conditions, string type, bool status, string reason, string message, long? observedGeneration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        ArgumentNullException.ThrowIfNull(message);

        var statusText = status ? "True" : "False";
        var existing = conditions.Find(c => c.Type == type);
        if (existing is null)
        {
            conditions.Add(new Condition
            {
                Type = type,
                Status = statusText,
                Reason = reason,
                Message = message,
                ObservedGeneration = observedGeneration,
                LastTransitionTime = Truncate(now),
            });
            return true;
        }

        var changed = false;
        if (existing.Status != statusText)
        {
            existing.Status = statusText;
            existing.LastTransitionTime = Truncate(now);
            changed = true;
        }
        else if (existing.LastTransitionTime is null)
        {
            existing.LastTransitionTime = Truncate(now);
            changed = true;
        }

        changed |= Assign(existing.Reason, reason, v => existing.Reason = v);
        changed |= Assign(existing.Message, message, v => existing.Message = v);
        if (existing.ObservedGeneration != observedGeneration)
        {
            existing.ObservedGeneration = observedGeneration;
            changed = true;
        }

        return changed;
    }

    public static Condition? Find(IReadOnlyList<Condition>? conditions, string type) =>
        conditions?.FirstOrDefault(c => c.Type == type);

    public static bool IsTrue(IReadOnlyList<Condition>? conditions, string type) => Find(conditions, type)?.Status == "True";

    private static bool Assign(string? current, string value, Action<string> set)
    {
        if (current == value)
        {
            return false;
        }

        set(value);
        return true;
    }

    // metav1.Time has second precision; keeping more would make every comparison with a re-read object differ.
    private static DateTimeOffset Truncate(DateTimeOffset now) =>
        new(now.UtcDateTime.Ticks - (now.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
