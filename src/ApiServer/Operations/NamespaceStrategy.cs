using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Operations;

internal sealed class NamespaceStrategy : ResourceStrategy
{
    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
        obj["status"] = new JsonObject { ["phase"] = "Active" };
        SetNameLabel(obj);
    }

    public override void PrepareForUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        obj["spec"] = old["spec"]?.DeepClone();
        SetNameLabel(obj);
    }

    // Since 1.22 every namespace carries kubernetes.io/metadata.name=<name>, enforced on every write.
    private static void SetNameLabel(JsonObject obj)
    {
        var meta = ObjectMeta.Of(obj);
        if (JsonTree.Str(meta, "name") is { Length: > 0 } name)
        {
            JsonTree.EnsureObject(meta, "labels")["kubernetes.io/metadata.name"] = name;
        }
    }
}

internal sealed class PodStrategy : ResourceStrategy
{
    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
    }
}
