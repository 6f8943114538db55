using System.Globalization;
using BareLb.Controller.Reconciliation;

namespace BareLb.Controller.Informers;

/// <summary>
/// The controller's own writes that have not come back through its watches yet. Each successful write of a
/// watched object is expected back at the resourceVersion the API server answered with; the informers' handlers
/// report what they see. While an echo is outstanding the controller is not settled (<see cref="ControllerActivity"/>):
/// a test that asks "did the controller react to its own write?" must wait for that reaction's cause to arrive.
/// </summary>
/// <remarks>
/// resourceVersions are opaque to clients in general; kube-apiserver's are etcd revisions (integers that grow), so
/// "seen at or after" is compared numerically when both parse, and by equality otherwise.
/// </remarks>
public sealed class WriteEchoes(ControllerActivity activity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Kind, string Key), string> _lastSeen = [];
    private readonly Dictionary<(string Kind, string Key), List<string>> _expected = [];
    private readonly HashSet<(string Kind, string Key)> _deleted = [];
    private readonly HashSet<(string Kind, string Key)> _expectedDeleted = [];

    public void Expect(string kind, string key, string? resourceVersion)
    {
        if (string.IsNullOrEmpty(resourceVersion))
        {
            return;
        }
        lock (_lock)
        {
            if (_lastSeen.TryGetValue((kind, key), out var seen) && Covers(seen, resourceVersion))
            {
                return;
            }
            if (!_expected.TryGetValue((kind, key), out var list))
            {
                _expected[(kind, key)] = list = [];
            }
            list.Add(resourceVersion);
            activity.Begin();
        }
    }

    /// <summary>Waits for the object's deletion to be seen (a delete answers with no resourceVersion to wait for).</summary>
    public void ExpectDeleted(string kind, string key)
    {
        lock (_lock)
        {
            if (_deleted.Contains((kind, key)) || !_expectedDeleted.Add((kind, key)))
            {
                return;
            }
            activity.Begin();
        }
    }

    public void Seen(string kind, string key, string? resourceVersion, bool deleted = false)
    {
        lock (_lock)
        {
            if (deleted)
            {
                _deleted.Add((kind, key));
                if (_expectedDeleted.Remove((kind, key)))
                {
                    activity.End();
                }
            }
            else
            {
                _deleted.Remove((kind, key));
            }
            if (string.IsNullOrEmpty(resourceVersion))
            {
                return;
            }
            _lastSeen[(kind, key)] = resourceVersion;
            if (!_expected.TryGetValue((kind, key), out var list))
            {
                return;
            }
            var ended = list.RemoveAll(expected => Covers(resourceVersion, expected));
            if (list.Count == 0)
            {
                _expected.Remove((kind, key));
            }
            for (var i = 0; i < ended; i++)
            {
                activity.End();
            }
        }
    }

    /// <summary>Forgets every outstanding echo (the informers are stopping).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var list in _expected.Values)
            {
                foreach (var _ in list)
                {
                    activity.End();
                }
            }
            _expected.Clear();
            foreach (var _ in _expectedDeleted)
            {
                activity.End();
            }
            _expectedDeleted.Clear();
        }
    }

    private static bool Covers(string seen, string expected) =>
        long.TryParse(seen, NumberStyles.None, CultureInfo.InvariantCulture, out var s) &&
        long.TryParse(expected, NumberStyles.None, CultureInfo.InvariantCulture, out var e)
            ? s >= e
            : seen == expected;
}
