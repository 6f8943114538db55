using System.Net;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Services;

// core/v1 Service (pkg/registry/core/service): composes defaulting, update merging, validation and the two
// allocators; status writes keep the stored spec and the new metadata (serviceStatusStrategy).
internal sealed class ServiceStrategy : ResourceStrategy
{
    private readonly ClusterIpAllocator _clusterIps = new();
    private readonly NodePortAllocator _nodePorts = new();

    public override void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
        ServiceSchema.Instance.Prune(obj, unknownFields);
        ServiceDefaulter.Apply(obj);
    }

    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
        ServiceFields.SyncClusterIps((JsonObject)obj["spec"]!);
    }

    public override void PrepareForUpdate(ResourceKind kind, JsonObject obj, JsonObject old) => ServiceUpdateMerger.Merge(obj, old);

    public override void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors) =>
        ServiceValidator.Validate(obj, old, errors);

    public override void ValidateStatusUpdate(ResourceKind kind, JsonObject obj, JsonObject old, List<FieldError> errors) =>
        ServiceValidator.ValidateStatus(obj, errors);

    public override void Allocate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = (JsonObject)obj["spec"]!;
        var oldSpec = old is null ? null : JsonTree.Obj(old, "spec");
        var reservedIps = new List<IPAddress>();
        var reservedPorts = new List<int>();
        var start = errors.Count;
        try
        {
            if (!ServiceFields.NeedsClusterIp(spec))
            {
                spec.Remove("ipFamilies");
                spec.Remove("ipFamilyPolicy");
            }
            else
            {
                _clusterIps.Allocate(spec, oldSpec, reservedIps, errors);
            }

            _nodePorts.Allocate(spec, oldSpec, reservedPorts, errors);
        }
        finally
        {
            if (errors.Count > start)
            {
                reservedIps.ForEach(_clusterIps.Release);
                reservedPorts.ForEach(_nodePorts.Release);
            }
        }
    }

    public override void Committed(ResourceKind kind, JsonObject? current, JsonObject? previous)
    {
        if (previous is null)
        {
            return;
        }

        var keepIps = new HashSet<string>(ServiceFields.ClusterIps(current));
        foreach (var ip in ServiceFields.ClusterIps(previous))
        {
            if (!keepIps.Contains(ip) && IpText.TryParse(ip, out var addr))
            {
                _clusterIps.Release(addr);
            }
        }

        var keepPorts = new HashSet<long>(ServiceFields.AllNodePorts(current));
        foreach (var p in ServiceFields.AllNodePorts(previous))
        {
            if (!keepPorts.Contains(p))
            {
                _nodePorts.Release((int)p);
            }
        }
    }
}
