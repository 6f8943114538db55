using System.Net;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Services;

// ClusterIP allocation with the real dual-stack rules (ipFamilies, ipFamilyPolicy, headless Services), from the
// emulated cluster's two service CIDRs.
internal sealed class ClusterIpAllocator
{
    public const string IPv4Cidr = "100.64.0.0/16";
    public const string IPv6Cidr = "2001:db8:ffff::/112";

    private readonly ClusterIpRange _v4 = new(IPv4Cidr);
    private readonly ClusterIpRange _v6 = new(IPv6Cidr);

    /// <summary>Fills ipFamilies, ipFamilyPolicy, clusterIP(s); what it reserves is added to <paramref name="reserved"/>.</summary>
    public void Allocate(JsonObject spec, JsonObject? oldSpec, List<IPAddress> reserved, List<FieldError> errors)
    {
        var clusterIps = (spec["clusterIPs"] as JsonArray ?? []).Select(n => JsonTree.AsString(n) ?? "").ToList();
        var families = (spec["ipFamilies"] as JsonArray ?? []).Select(n => JsonTree.AsString(n) ?? "").ToList();
        var policy = JsonTree.Str(spec, "ipFamilyPolicy");
        var headless = clusterIps.Count > 0 && clusterIps[0] == "None";

        if (headless && families.Count == 0 && (JsonTree.Obj(spec, "selector") ?? []).Count == 0)
        {
            families = ["IPv4", "IPv6"];
            policy ??= "RequireDualStack";
        }

        if (!headless)
        {
            for (var i = 0; i < clusterIps.Count; i++)
            {
                if (!IpText.TryParse(clusterIps[i], out var ip))
                {
                    continue;
                }

                var family = IpText.Family(ip);
                if (i >= families.Count)
                {
                    families.Add(family);
                }
                else if (families[i] != family)
                {
                    errors.Add(FieldError.Invalid($"spec.ipFamilies[{i}]", families[i], $"does not match IP family of spec.clusterIPs[{i}]"));
                    return;
                }
            }
        }

        if (policy is null && families.Count == 2)
        {
            policy = "RequireDualStack";
        }

        policy ??= "SingleStack";
        if (policy == "SingleStack" && families.Count > 1)
        {
            errors.Add(FieldError.Invalid("spec.ipFamilyPolicy", policy, "must be RequireDualStack or PreferDualStack when multiple IP families are specified"));
            return;
        }

        if (families.Count == 0)
        {
            families.Add("IPv4");
        }

        if (policy is "PreferDualStack" or "RequireDualStack" && families.Count == 1)
        {
            families.Add(families[0] == "IPv4" ? "IPv6" : "IPv4");
        }

        spec["ipFamilies"] = new JsonArray(families.Select(f => (JsonNode?)f).ToArray());
        spec["ipFamilyPolicy"] = policy;
        if (headless)
        {
            spec["clusterIP"] = "None";
            spec["clusterIPs"] = new JsonArray("None");
            return;
        }

        var owned = new HashSet<string>((oldSpec?["clusterIPs"] as JsonArray ?? []).Select(n => JsonTree.AsString(n) ?? ""));
        var result = new List<string>();
        for (var i = 0; i < families.Count; i++)
        {
            var range = families[i] == "IPv6" ? _v6 : _v4;
            if (i < clusterIps.Count && clusterIps[i].Length > 0)
            {
                if (!owned.Contains(clusterIps[i]))
                {
                    IpText.TryParse(clusterIps[i], out var want);
                    if (range.TryReserve(want) is { } failure)
                    {
                        errors.Add(FieldError.InvalidRaw("spec.clusterIPs", ServiceFields.GoStringSlice(clusterIps), $"failed to allocate IP {clusterIps[i]}: {failure}"));
                        return;
                    }

                    reserved.Add(want);
                }

                result.Add(clusterIps[i]);
            }
            else
            {
                var ip = range.AllocateNext();
                if (ip is null)
                {
                    errors.Add(FieldError.InvalidRaw("spec.clusterIPs", ServiceFields.GoStringSlice(clusterIps), $"failed to allocate IP: range {range.Cidr} is full"));
                    return;
                }

                reserved.Add(ip);
                result.Add(ip.ToString());
            }
        }

        spec["clusterIP"] = result[0];
        spec["clusterIPs"] = new JsonArray(result.Select(r => (JsonNode?)r).ToArray());
    }

    public void Release(IPAddress ip) => RangeFor(ip).Release(ip);

    private ClusterIpRange RangeFor(IPAddress ip) => ip.AddressFamily == _v6.Family ? _v6 : _v4;
}
