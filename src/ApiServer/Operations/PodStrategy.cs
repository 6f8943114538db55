using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Operations;

// core/v1 Pod, reduced to what the emulator manages (pkg/registry/core/pod/strategy.go).
internal sealed class PodStrategy : ResourceStrategy
{
    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
    }

    // podStatusStrategy: besides the spec, ownerReferences stay as stored (old kubelets corrupted them through
    // /status) and the immutable qosClass is backfilled when a status write leaves it out.
    public override void PrepareForStatusUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        base.PrepareForStatusUpdate(kind, obj, old);
        var meta = ObjectMeta.Of(obj);
        if (JsonTree.Obj(old, "metadata")?["ownerReferences"] is { } owners)
        {
            meta["ownerReferences"] = owners.DeepClone();
        }
        else
        {
            meta.Remove("ownerReferences");
        }

        var status = JsonTree.EnsureObject(obj, "status");
        if (string.IsNullOrEmpty(JsonTree.Str(status, "qosClass")) && JsonTree.Str(old["status"], "qosClass") is { } qos)
        {
            status["qosClass"] = qos;
        }
    }
}
