using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Services;

// NodePort and healthCheckNodePort allocation from 30000-32767.
internal sealed class NodePortAllocator
{
    private readonly NodePortRange _ports = new();

    /// <summary>Fills missing node ports and the health check port; what it reserves is added to <paramref name="reserved"/>.</summary>
    public void Allocate(JsonObject spec, JsonObject? oldSpec, List<int> reserved, List<FieldError> errors)
    {
        if (!ServiceFields.NeedsNodePort(spec))
        {
            return;
        }

        var owned = new HashSet<long>(oldSpec is null ? [] : ServiceFields.NodePorts(oldSpec));
        if (oldSpec is not null && JsonTree.TryGetLong(oldSpec["healthCheckNodePort"], out var oldHc))
        {
            owned.Add(oldHc);
        }

        var allocate = JsonTree.Str(spec, "type") == "NodePort" || JsonTree.AsBool(spec["allocateLoadBalancerNodePorts"]) != false;
        var ports = spec["ports"] as JsonArray ?? [];
        var usedHere = new HashSet<long>();
        for (var i = 0; i < ports.Count; i++)
        {
            if (ports[i] is not JsonObject p)
            {
                continue;
            }

            if (JsonTree.TryGetLong(p["nodePort"], out var np) && np != 0)
            {
                if (!owned.Contains(np) && !usedHere.Contains(np))
                {
                    if (_ports.TryReserve((int)np) is { } failure)
                    {
                        errors.Add(FieldError.Invalid($"spec.ports[{i}].nodePort", np, failure));
                        return;
                    }

                    reserved.Add((int)np);
                }

                usedHere.Add(np);
            }
            else if (allocate)
            {
                var next = _ports.AllocateNext();
                if (next is null)
                {
                    errors.Add(FieldError.Invalid($"spec.ports[{i}].nodePort", 0, "range is full"));
                    return;
                }

                reserved.Add(next.Value);
                usedHere.Add(next.Value);
                p["nodePort"] = next.Value;
            }
        }

        if (ServiceFields.NeedsHealthCheckPort(spec))
        {
            if (JsonTree.TryGetLong(spec["healthCheckNodePort"], out var hc) && hc != 0)
            {
                if (!owned.Contains(hc))
                {
                    if (_ports.TryReserve((int)hc) is { } failure)
                    {
                        errors.Add(FieldError.Invalid("spec.healthCheckNodePort", hc, failure));
                        return;
                    }

                    reserved.Add((int)hc);
                }
            }
            else
            {
                var next = _ports.AllocateNext();
                if (next is null)
                {
                    errors.Add(FieldError.Invalid("spec.healthCheckNodePort", 0, "range is full"));
                    return;
                }

                reserved.Add(next.Value);
                spec["healthCheckNodePort"] = next.Value;
            }
        }
    }

    public void Release(int port) => _ports.Release(port);
}
