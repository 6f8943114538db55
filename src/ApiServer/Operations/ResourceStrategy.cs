using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Operations;

// Per-kind admission hooks, in the spirit of the real registry's RESTCreateStrategy/RESTUpdateStrategy.
// All hooks run under the store lock, in this order: Normalize, PrepareFor*, Validate*, Allocate, commit, Committed.
internal abstract class ResourceStrategy
{
    /// <summary>Drops fields the kind does not know (recording their paths) and applies schema defaults.</summary>
    public virtual void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
    }

    public virtual void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
    }

    /// <summary>A write to the main resource; obj already carries the stored status.</summary>
    public virtual void PrepareForUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
    }

    /// <summary>
    /// A write through /status. The built-in status strategies keep the new object (metadata included) and reset
    /// everything else but status from the stored object, which is this default.
    /// </summary>
    public virtual void PrepareForStatusUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        foreach (var key in obj.Select(kv => kv.Key).Where(k => k is not ("metadata" or "status" or "apiVersion" or "kind")).ToList())
        {
            obj.Remove(key);
        }

        foreach (var kv in old)
        {
            if (kv.Key is not ("metadata" or "status" or "apiVersion" or "kind"))
            {
                obj[kv.Key] = kv.Value?.DeepClone();
            }
        }
    }

    /// <summary>old is null on create.</summary>
    public virtual void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
    }

    public virtual void ValidateStatusUpdate(ResourceKind kind, JsonObject obj, JsonObject old, List<FieldError> errors) =>
        Validate(kind, obj, old, errors);

    /// <summary>Reserves what the object needs (IPs, ports); on errors nothing stays reserved.</summary>
    public virtual void Allocate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
    }

    /// <summary>
    /// The object moved from previous to current (null = absent): release what only previous held. Also used to
    /// undo a dry run's allocations by reporting the reverse transition.
    /// </summary>
    public virtual void Committed(ResourceKind kind, JsonObject? current, JsonObject? previous)
    {
    }
}

internal sealed class DefaultStrategy : ResourceStrategy
{
    public static readonly DefaultStrategy Instance = new();
}
