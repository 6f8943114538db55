using System.Text;

namespace BareLb.ApiServer.Storage;

internal enum WatchEventType
{
    Added,
    Modified,
    Deleted,
}

internal sealed class WatchEvent(WatchEventType type, string storageKey, StoredObject obj, StoredObject? previous)
{
    private static readonly byte[] AddedPrefix = Encoding.UTF8.GetBytes("{\"type\":\"ADDED\",\"object\":");
    private static readonly byte[] ModifiedPrefix = Encoding.UTF8.GetBytes("{\"type\":\"MODIFIED\",\"object\":");
    private static readonly byte[] DeletedPrefix = Encoding.UTF8.GetBytes("{\"type\":\"DELETED\",\"object\":");

    private byte[]? _line;

    public WatchEventType Type { get; } = type;

    public string StorageKey { get; } = storageKey;

    // For DELETED: the final state of the object, carrying the deletion's resourceVersion.
    public StoredObject Object { get; } = obj;

    // State before this event (null for ADDED); lets paged lists rebuild a consistent snapshot and lets
    // filtered watches turn "stopped matching" into DELETED.
    public StoredObject? Previous { get; } = previous;

    public long ResourceVersion => Object.ResourceVersion;

    // The wire line `{"type":..,"object":..}\n`, built once and shared by every watcher.
    public byte[] Line => _line ??= BuildLine(Type, Object.Json);

    public static byte[] BuildLine(WatchEventType type, ReadOnlySpan<byte> objectJson)
    {
        var prefix = type switch
        {
            WatchEventType.Added => AddedPrefix,
            WatchEventType.Modified => ModifiedPrefix,
            _ => DeletedPrefix,
        };
        var line = new byte[prefix.Length + objectJson.Length + 2];
        prefix.CopyTo(line, 0);
        objectJson.CopyTo(line.AsSpan(prefix.Length));
        line[^2] = (byte)'}';
        line[^1] = (byte)'\n';
        return line;
    }
}
