using System.Net;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Services;

// core/v1 Service: defaulting (SetDefaults_Service), validation (the subset of ValidateService our clients
// and tests exercise), ClusterIP/NodePort allocation with the real dual-stack rules, and the update-time
// carry-forward of allocated values (patchAllocatedValues / dropTypeDependentFields).
internal sealed class ServiceStrategy : ResourceStrategy
{
    public const string IPv4Cidr = "100.64.0.0/16";
    public const string IPv6Cidr = "2001:db8:ffff::/112";

    private static readonly string[] Types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];
    private static readonly string[] Policies = ["PreferDualStack", "RequireDualStack", "SingleStack"];
    private static readonly string[] Families = ["IPv4", "IPv6"];

    private readonly ClusterIpRange _v4 = new(IPv4Cidr);
    private readonly ClusterIpRange _v6 = new(IPv6Cidr);
    private readonly NodePortRange _nodePorts = new();

    public override void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
        ServiceSchema.Instance.Prune(obj, unknownFields);
        var spec = JsonTree.EnsureObject(obj, "spec");
        spec["sessionAffinity"] ??= "None";
        if (JsonTree.Str(spec, "sessionAffinity") == "None")
        {
            spec.Remove("sessionAffinityConfig");
        }
        else if (JsonTree.Str(spec, "sessionAffinity") == "ClientIP" && spec["sessionAffinityConfig"] is null)
        {
            spec["sessionAffinityConfig"] = new JsonObject { ["clientIP"] = new JsonObject { ["timeoutSeconds"] = 10800 } };
        }

        spec["type"] ??= "ClusterIP";
        var type = JsonTree.Str(spec, "type");
        if (spec["ports"] is JsonArray ports)
        {
            foreach (var p in ports.OfType<JsonObject>())
            {
                p["protocol"] ??= "TCP";
                var target = p["targetPort"];
                if (target is null || (JsonTree.TryGetLong(target, out var t) && t == 0) || JsonTree.AsString(target) == "")
                {
                    p["targetPort"] = p["port"]?.DeepClone();
                }
            }
        }

        if (type is "NodePort" or "LoadBalancer")
        {
            spec["externalTrafficPolicy"] ??= "Cluster";
        }

        if (type is "NodePort" or "LoadBalancer" or "ClusterIP")
        {
            spec["internalTrafficPolicy"] ??= "Cluster";
        }

        if (type == "LoadBalancer")
        {
            spec["allocateLoadBalancerNodePorts"] ??= true;
            if (JsonTree.Arr(JsonTree.Obj(obj["status"], "loadBalancer"), "ingress") is { } ingress)
            {
                foreach (var ing in ingress.OfType<JsonObject>())
                {
                    if (!string.IsNullOrEmpty(JsonTree.Str(ing, "ip")) && !ing.ContainsKey("ipMode"))
                    {
                        ing["ipMode"] = "VIP";
                    }
                }
            }
        }
    }

    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
        NormalizeClusterIps((JsonObject)obj["spec"]!);
    }

    public override void PrepareForUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        var spec = JsonTree.EnsureObject(obj, "spec");
        var oldSpec = JsonTree.Obj(old, "spec") ?? [];
        if (NeedsClusterIp(oldSpec) && NeedsClusterIp(spec))
        {
            if (string.IsNullOrEmpty(JsonTree.Str(spec, "clusterIP")) && oldSpec["clusterIP"] is { } ip)
            {
                spec["clusterIP"] = ip.DeepClone();
            }

            if ((spec["clusterIPs"] as JsonArray ?? []).Count == 0 && oldSpec["clusterIPs"] is { } ips)
            {
                spec["clusterIPs"] = ips.DeepClone();
            }
        }

        if (NeedsNodePort(oldSpec) && NeedsNodePort(spec) && spec["ports"] is JsonArray ports)
        {
            var used = new HashSet<long>(NodePorts(spec));
            used.IntersectWith(NodePorts(oldSpec));
            var byName = new Dictionary<string, long>();
            foreach (var p in (oldSpec["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (JsonTree.TryGetLong(p["nodePort"], out var np))
                {
                    byName[JsonTree.Str(p, "name") ?? ""] = np;
                }
            }

            foreach (var p in ports.OfType<JsonObject>())
            {
                if (!JsonTree.TryGetLong(p["nodePort"], out var np) || np == 0)
                {
                    if (byName.TryGetValue(JsonTree.Str(p, "name") ?? "", out var oldNp) && !used.Contains(oldNp))
                    {
                        p["nodePort"] = oldNp;
                    }
                }
            }
        }

        if (NeedsHealthCheckPort(oldSpec) && NeedsHealthCheckPort(spec) &&
            (!JsonTree.TryGetLong(spec["healthCheckNodePort"], out var hc) || hc == 0) && oldSpec["healthCheckNodePort"] is { } oldHc)
        {
            spec["healthCheckNodePort"] = oldHc.DeepClone();
        }

        TrimForDualStackDowngrade(spec, oldSpec);
        DropTypeDependentFields(spec, oldSpec);
        NormalizeClusterIps(spec);
    }

    // Setting ipFamilyPolicy to SingleStack on a dual-stack Service keeps only the primary family and IP.
    private static void TrimForDualStackDowngrade(JsonObject spec, JsonObject oldSpec)
    {
        if ((oldSpec["ipFamilies"] as JsonArray ?? []).Count < 2 || JsonTree.Str(spec, "ipFamilyPolicy") != "SingleStack")
        {
            return;
        }

        foreach (var field in (string[])["clusterIPs", "ipFamilies"])
        {
            if (spec[field] is JsonArray { Count: > 1 } list)
            {
                spec[field] = new JsonArray(list[0]?.DeepClone());
            }
        }
    }

    private static void DropTypeDependentFields(JsonObject spec, JsonObject oldSpec)
    {
        if (JsonTree.Str(spec, "type") == JsonTree.Str(oldSpec, "type"))
        {
            return;
        }

        bool Same(string field) => JsonNode.DeepEquals(spec[field], oldSpec[field]);
        if (!NeedsClusterIp(spec) && Same("clusterIP") && Same("clusterIPs"))
        {
            spec.Remove("clusterIP");
            spec.Remove("clusterIPs");
            if (Same("ipFamilies"))
            {
                spec.Remove("ipFamilies");
            }

            if (Same("ipFamilyPolicy"))
            {
                spec.Remove("ipFamilyPolicy");
            }
        }

        if (!NeedsNodePort(spec) && NodePorts(spec).SequenceEqual(NodePorts(oldSpec)))
        {
            foreach (var p in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                p.Remove("nodePort");
            }
        }

        if (!NeedsHealthCheckPort(spec) && Same("healthCheckNodePort"))
        {
            spec.Remove("healthCheckNodePort");
        }

        if (JsonTree.Str(spec, "type") != "LoadBalancer")
        {
            if (Same("allocateLoadBalancerNodePorts"))
            {
                spec.Remove("allocateLoadBalancerNodePorts");
            }

            if (Same("loadBalancerClass"))
            {
                spec.Remove("loadBalancerClass");
            }
        }

        if (JsonTree.Str(spec, "type") is not ("NodePort" or "LoadBalancer") && Same("externalTrafficPolicy"))
        {
            spec.Remove("externalTrafficPolicy");
        }
    }

    // clusterIP and clusterIPs[0] are two views of one value; fill whichever is missing.
    private static void NormalizeClusterIps(JsonObject spec)
    {
        var ip = JsonTree.Str(spec, "clusterIP");
        var ips = spec["clusterIPs"] as JsonArray;
        if (!string.IsNullOrEmpty(ip) && (ips is null || ips.Count == 0))
        {
            spec["clusterIPs"] = new JsonArray(ip);
        }
        else if (string.IsNullOrEmpty(ip) && ips is { Count: > 0 } && JsonTree.AsString(ips[0]) is { Length: > 0 } first)
        {
            spec["clusterIP"] = first;
        }
    }

    public override void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = JsonTree.Obj(obj, "spec") ?? [];
        var type = JsonTree.Str(spec, "type") ?? "";
        if (!Types.Contains(type))
        {
            errors.Add(FieldError.NotSupported("spec.type", spec["type"], Types));
        }

        var clusterIps = (spec["clusterIPs"] as JsonArray ?? []).Select(n => JsonTree.AsString(n) ?? "").ToList();
        var headless = clusterIps.Count > 0 && clusterIps[0] == "None";
        ValidatePorts(spec, type, headless, errors);

        var affinity = JsonTree.Str(spec, "sessionAffinity");
        if (affinity is not ("None" or "ClientIP"))
        {
            errors.Add(FieldError.NotSupported("spec.sessionAffinity", spec["sessionAffinity"], ["ClientIP", "None"]));
        }

        if (spec["externalTrafficPolicy"] is { } etp)
        {
            if (type is not ("NodePort" or "LoadBalancer"))
            {
                errors.Add(FieldError.Invalid("spec.externalTrafficPolicy", etp, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
            }
            else if (JsonTree.AsString(etp) is not ("Cluster" or "Local"))
            {
                errors.Add(FieldError.NotSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
            }
        }

        if (spec["internalTrafficPolicy"] is { } itp && JsonTree.AsString(itp) is not ("Cluster" or "Local"))
        {
            errors.Add(FieldError.NotSupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]));
        }

        if (spec["allocateLoadBalancerNodePorts"] is not null && type != "LoadBalancer")
        {
            errors.Add(FieldError.Forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
        }

        if (spec["loadBalancerClass"] is { } lbClass)
        {
            if (type != "LoadBalancer")
            {
                errors.Add(FieldError.Forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
            }
            else if (old is not null && JsonTree.Str(JsonTree.Obj(old, "spec"), "type") == "LoadBalancer" &&
                     !JsonNode.DeepEquals(lbClass, JsonTree.Obj(old, "spec")?["loadBalancerClass"]))
            {
                errors.Add(FieldError.Invalid("spec.loadBalancerClass", lbClass, "may not change once set"));
            }
        }

        if (JsonTree.Str(spec, "loadBalancerIP") is { Length: > 0 } lbIp && !IpText.TryParse(lbIp, out _))
        {
            errors.Add(FieldError.Invalid("spec.loadBalancerIP", lbIp, "must be a valid IP address"));
        }

        if (spec["loadBalancerSourceRanges"] is JsonArray ranges)
        {
            for (var i = 0; i < ranges.Count; i++)
            {
                if (!IpText.TryParseCidr(JsonTree.AsString(ranges[i])?.Trim(), out _, out _))
                {
                    errors.Add(FieldError.Invalid($"spec.loadBalancerSourceRanges[{i}]", ranges[i], "must be a valid CIDR"));
                }
            }
        }

        if (type == "ExternalName")
        {
            var externalName = JsonTree.Str(spec, "externalName");
            if (string.IsNullOrEmpty(externalName))
            {
                errors.Add(FieldError.Required("spec.externalName"));
            }
            else if (!Names.IsDns1123Subdomain(externalName.TrimEnd('.')))
            {
                errors.Add(FieldError.Invalid("spec.externalName", externalName, "should be a domain with at least two segments separated by dots"));
            }

            if (!string.IsNullOrEmpty(JsonTree.Str(spec, "clusterIP")))
            {
                errors.Add(FieldError.Forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
            }
        }

        ValidateIpFamilies(spec, clusterIps, errors);
        if (old is not null)
        {
            ValidateImmutableAllocations(spec, JsonTree.Obj(old, "spec") ?? [], errors);
        }

        ValidateStatus(obj, errors);
    }

    private static void ValidatePorts(JsonObject spec, string type, bool headless, List<FieldError> errors)
    {
        var ports = spec["ports"] as JsonArray ?? [];
        if (ports.Count == 0 && type != "ExternalName" && !headless)
        {
            errors.Add(FieldError.Required("spec.ports"));
            return;
        }

        var names = new HashSet<string>();
        var keys = new HashSet<string>();
        for (var i = 0; i < ports.Count; i++)
        {
            var path = $"spec.ports[{i}]";
            if (ports[i] is not JsonObject p)
            {
                errors.Add(FieldError.Invalid(path, ports[i], "must be an object"));
                continue;
            }

            var name = JsonTree.Str(p, "name") ?? "";
            if (ports.Count > 1 && name.Length == 0)
            {
                errors.Add(FieldError.Required(path + ".name"));
            }
            else if (name.Length > 0)
            {
                errors.AddRange(Names.Validate(name, NameRule.Dns1123Label, path + ".name"));
                if (!names.Add(name))
                {
                    errors.Add(FieldError.Duplicate(path + ".name", name));
                }
            }

            if (!JsonTree.TryGetLong(p["port"], out var port) || port is < 1 or > 65535)
            {
                errors.Add(p["port"] is null
                    ? FieldError.Required(path + ".port")
                    : FieldError.Invalid(path + ".port", p["port"], "must be between 1 and 65535, inclusive"));
            }

            var protocol = JsonTree.Str(p, "protocol") ?? "";
            if (!Protocols.Contains(protocol))
            {
                errors.Add(FieldError.NotSupported(path + ".protocol", p["protocol"], Protocols));
            }

            if (JsonTree.TryGetLong(p["nodePort"], out var np) && np != 0 && (np is < 1 or > 65535))
            {
                errors.Add(FieldError.Invalid(path + ".nodePort", np, "must be between 1 and 65535, inclusive"));
            }

            if (p["targetPort"] is { } target)
            {
                if (JsonTree.AsString(target) is { } named)
                {
                    if (named.Length > 15 || !named.Any(char.IsAsciiLetterLower) || named.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')) ||
                        named.StartsWith('-') || named.EndsWith('-') || named.Contains("--", StringComparison.Ordinal))
                    {
                        errors.Add(FieldError.Invalid(path + ".targetPort", named, "must be no more than 15 characters, contain only lowercase alphanumeric characters or '-', contain at least one letter, and not start or end with '-' or contain '--'"));
                    }
                }
                else if (!JsonTree.TryGetLong(target, out var tp) || tp is < 1 or > 65535)
                {
                    errors.Add(FieldError.Invalid(path + ".targetPort", target, "must be between 1 and 65535, inclusive"));
                }
            }

            if (!keys.Add($"{port}/{protocol}"))
            {
                errors.Add(FieldError.Duplicate(path, p));
            }
        }
    }

    private static void ValidateIpFamilies(JsonObject spec, List<string> clusterIps, List<FieldError> errors)
    {
        if (spec["ipFamilyPolicy"] is { } policy && !Policies.Contains(JsonTree.AsString(policy) ?? ""))
        {
            errors.Add(FieldError.NotSupported("spec.ipFamilyPolicy", policy, Policies));
        }

        var families = spec["ipFamilies"] as JsonArray ?? [];
        var seen = new HashSet<string>();
        for (var i = 0; i < families.Count; i++)
        {
            var f = JsonTree.AsString(families[i]) ?? "";
            if (!Families.Contains(f))
            {
                errors.Add(FieldError.NotSupported($"spec.ipFamilies[{i}]", families[i], Families));
            }
            else if (!seen.Add(f))
            {
                errors.Add(FieldError.Duplicate($"spec.ipFamilies[{i}]", families[i]));
            }
        }

        if (families.Count > 2)
        {
            errors.Add(FieldError.Invalid("spec.ipFamilies", families, "may not have more than 2 families"));
        }

        if (JsonTree.Str(spec, "ipFamilyPolicy") == "SingleStack")
        {
            if (families.Count > 1)
            {
                errors.Add(FieldError.Invalid("spec.ipFamilies", families, "when spec.ipFamilyPolicy is SingleStack, only one family may be specified"));
            }

            if (clusterIps.Count > 1)
            {
                errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "when spec.ipFamilyPolicy is SingleStack, only one clusterIP may be specified"));
            }
        }

        var clusterIp = JsonTree.Str(spec, "clusterIP") ?? "";
        if (clusterIps.Count > 0 && clusterIp.Length > 0 && clusterIps[0] != clusterIp)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "first value must match `spec.clusterIP`"));
        }

        if (clusterIps.Count > 2)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "may only hold up to 2 values"));
        }

        for (var i = 0; i < clusterIps.Count; i++)
        {
            if (clusterIps[i] == "None")
            {
                if (i > 0 || clusterIps.Count > 1)
                {
                    errors.Add(FieldError.Invalid($"spec.clusterIPs[{i}]", clusterIps[i], "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
                }

                continue;
            }

            if (!IpText.TryParse(clusterIps[i], out var ip))
            {
                errors.Add(FieldError.Invalid($"spec.clusterIPs[{i}]", clusterIps[i], "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
                continue;
            }

            if (i < families.Count && JsonTree.AsString(families[i]) is { } fam && Families.Contains(fam) && fam != IpText.Family(ip))
            {
                errors.Add(FieldError.Invalid($"spec.ipFamilies[{i}]", fam, $"does not match IP family of spec.clusterIPs[{i}]"));
            }
        }

        if (clusterIps.Count == 2 && IpText.TryParse(clusterIps[0], out var a) && IpText.TryParse(clusterIps[1], out var b) &&
            a.AddressFamily == b.AddressFamily)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs", spec["clusterIPs"], "may specify no more than one IP for each IP family"));
        }
    }

    private static void ValidateImmutableAllocations(JsonObject spec, JsonObject oldSpec, List<FieldError> errors)
    {
        if (!NeedsClusterIp(oldSpec) || !NeedsClusterIp(spec))
        {
            return;
        }

        var oldIps = oldSpec["clusterIPs"] as JsonArray ?? [];
        var newIps = spec["clusterIPs"] as JsonArray ?? [];
        if (oldIps.Count > 0 && newIps.Count > 0 && JsonTree.AsString(oldIps[0]) != JsonTree.AsString(newIps[0]))
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs[0]", newIps[0], "may not change once set"));
        }

        var oldFamilies = oldSpec["ipFamilies"] as JsonArray ?? [];
        var newFamilies = spec["ipFamilies"] as JsonArray ?? [];
        if (oldFamilies.Count > 0 && newFamilies.Count > 0 && JsonTree.AsString(oldFamilies[0]) != JsonTree.AsString(newFamilies[0]))
        {
            errors.Add(FieldError.Invalid("spec.ipFamilies[0]", newFamilies[0], "may not change once set"));
        }

        if (oldIps.Count == 2 && newIps.Count == 2 && JsonTree.AsString(oldIps[1]) != JsonTree.AsString(newIps[1]))
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs[1]", newIps[1], "may not change once set"));
        }
    }

    private static void ValidateStatus(JsonObject obj, List<FieldError> errors)
    {
        var ingress = JsonTree.Arr(JsonTree.Obj(obj["status"], "loadBalancer"), "ingress");
        if (ingress is null)
        {
            return;
        }

        for (var i = 0; i < ingress.Count; i++)
        {
            var path = $"status.loadBalancer.ingress[{i}]";
            if (ingress[i] is not JsonObject ing)
            {
                errors.Add(FieldError.Invalid(path, ingress[i], "must be an object"));
                continue;
            }

            var ip = JsonTree.Str(ing, "ip");
            if (ing["ip"] is { } ipNode && ip is null)
            {
                errors.Add(FieldError.Invalid(path + ".ip", ipNode, "must be a valid IP address"));
            }
            else if (!string.IsNullOrEmpty(ip) && !IpText.TryParse(ip, out _))
            {
                errors.Add(FieldError.Invalid(path + ".ip", ip, "must be a valid IP address"));
            }

            if (ing["ipMode"] is { } mode)
            {
                if (JsonTree.AsString(mode) is not ("VIP" or "Proxy"))
                {
                    errors.Add(FieldError.NotSupported(path + ".ipMode", mode, ["Proxy", "VIP"]));
                }
                else if (string.IsNullOrEmpty(ip))
                {
                    errors.Add(FieldError.Forbidden(path + ".ipMode", "may not be specified when `ip` is not"));
                }
            }

            if (JsonTree.Str(ing, "hostname") is { Length: > 0 } host)
            {
                if (IpText.TryParse(host, out _))
                {
                    errors.Add(FieldError.Invalid(path + ".hostname", host, "must be a DNS name, not an IP address"));
                }
                else if (!Names.IsDns1123Subdomain(host))
                {
                    errors.Add(FieldError.Invalid(path + ".hostname", host, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
                }
            }
        }
    }

    public override void Allocate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = (JsonObject)obj["spec"]!;
        var oldSpec = old is null ? null : JsonTree.Obj(old, "spec");
        var reservedIps = new List<IPAddress>();
        var reservedPorts = new List<int>();
        var start = errors.Count;
        try
        {
            if (!NeedsClusterIp(spec))
            {
                spec.Remove("ipFamilies");
                spec.Remove("ipFamilyPolicy");
            }
            else
            {
                AllocateClusterIps(spec, oldSpec, reservedIps, errors);
            }

            AllocateNodePorts(spec, oldSpec, reservedPorts, errors);
        }
        finally
        {
            if (errors.Count > start)
            {
                foreach (var ip in reservedIps)
                {
                    RangeFor(ip).Release(ip);
                }

                foreach (var p in reservedPorts)
                {
                    _nodePorts.Release(p);
                }
            }
        }
    }

    private void AllocateClusterIps(JsonObject spec, JsonObject? oldSpec, List<IPAddress> reserved, List<FieldError> errors)
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
                        errors.Add(FieldError.InvalidRaw("spec.clusterIPs", GoStringSlice(clusterIps), $"failed to allocate IP {clusterIps[i]}: {failure}"));
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
                    errors.Add(FieldError.InvalidRaw("spec.clusterIPs", GoStringSlice(clusterIps), $"failed to allocate IP: range {range.Cidr} is full"));
                    return;
                }

                reserved.Add(ip);
                result.Add(ip.ToString());
            }
        }

        spec["clusterIP"] = result[0];
        spec["clusterIPs"] = new JsonArray(result.Select(r => (JsonNode?)r).ToArray());
    }

    private void AllocateNodePorts(JsonObject spec, JsonObject? oldSpec, List<int> reserved, List<FieldError> errors)
    {
        if (!NeedsNodePort(spec))
        {
            return;
        }

        var owned = new HashSet<long>(oldSpec is null ? [] : NodePorts(oldSpec));
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
                    if (_nodePorts.TryReserve((int)np) is { } failure)
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
                var next = _nodePorts.AllocateNext();
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

        if (NeedsHealthCheckPort(spec))
        {
            if (JsonTree.TryGetLong(spec["healthCheckNodePort"], out var hc) && hc != 0)
            {
                if (!owned.Contains(hc))
                {
                    if (_nodePorts.TryReserve((int)hc) is { } failure)
                    {
                        errors.Add(FieldError.Invalid("spec.healthCheckNodePort", hc, failure));
                        return;
                    }

                    reserved.Add((int)hc);
                }
            }
            else
            {
                var next = _nodePorts.AllocateNext();
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

    public override void Committed(ResourceKind kind, JsonObject? current, JsonObject? previous)
    {
        if (previous is null)
        {
            return;
        }

        var keepIps = new HashSet<string>(ClusterIps(current));
        foreach (var ip in ClusterIps(previous))
        {
            if (!keepIps.Contains(ip) && IpText.TryParse(ip, out var addr))
            {
                RangeFor(addr).Release(addr);
            }
        }

        var keepPorts = new HashSet<long>(AllNodePorts(current));
        foreach (var p in AllNodePorts(previous))
        {
            if (!keepPorts.Contains(p))
            {
                _nodePorts.Release((int)p);
            }
        }
    }

    private ClusterIpRange RangeFor(IPAddress ip) => ip.AddressFamily == _v6.Family ? _v6 : _v4;

    private static IEnumerable<string> ClusterIps(JsonObject? obj) =>
        (JsonTree.Arr(JsonTree.Obj(obj, "spec"), "clusterIPs") ?? []).Select(n => JsonTree.AsString(n) ?? "").Where(s => s is not ("" or "None"));

    private static IEnumerable<long> AllNodePorts(JsonObject? obj)
    {
        var spec = JsonTree.Obj(obj, "spec");
        if (spec is null)
        {
            yield break;
        }

        foreach (var p in NodePorts(spec))
        {
            yield return p;
        }

        if (JsonTree.TryGetLong(spec["healthCheckNodePort"], out var hc) && hc != 0)
        {
            yield return hc;
        }
    }

    private static IEnumerable<long> NodePorts(JsonObject spec)
    {
        foreach (var p in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (JsonTree.TryGetLong(p["nodePort"], out var np) && np != 0)
            {
                yield return np;
            }
        }
    }

    private static bool NeedsClusterIp(JsonObject spec) => JsonTree.Str(spec, "type") != "ExternalName";

    private static bool NeedsNodePort(JsonObject spec) => JsonTree.Str(spec, "type") is "NodePort" or "LoadBalancer";

    private static bool NeedsHealthCheckPort(JsonObject spec) =>
        JsonTree.Str(spec, "type") == "LoadBalancer" && JsonTree.Str(spec, "externalTrafficPolicy") == "Local";

    private static string GoStringSlice(IEnumerable<string> values) =>
        "[]string{" + string.Join(", ", values.Select(JsonTree.Quote)) + "}";
}
