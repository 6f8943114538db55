using System.Globalization;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Storage;

namespace BareLb.ApiServer.Tables;

internal enum IncludeObject
{
    None,
    Metadata,
    Object,
}

internal sealed record Column(string Name, string Type, string Format, string Description, int Priority, Func<JsonObject, JsonNode?> Cell);

// Server-side printing (meta.k8s.io/v1 Table) as kubectl requests it: the real column sets for the kinds our
// users look at (services, namespaces, leases, nodes, pods, secrets, configmaps, endpointslices), CRD
// additionalPrinterColumns with simple JSONPaths, and the generic Name/Created At table for the rest.
internal sealed class TableConverter(TimeProvider time)
{
    private const string NameDescription =
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

    private const string AgeDescription =
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

    public JsonObject Convert(ResourceKind kind, IReadOnlyList<StoredObject> items, long resourceVersion, string? continueToken, IncludeObject include, bool includeHeaders)
    {
        var columns = ColumnsFor(kind);
        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
        };
        var meta = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) };
        if (continueToken is not null)
        {
            meta["continue"] = continueToken;
        }

        table["metadata"] = meta;
        if (includeHeaders)
        {
            var defs = new JsonArray();
            foreach (var c in columns)
            {
                defs.Add(new JsonObject
                {
                    ["name"] = c.Name, ["type"] = c.Type, ["format"] = c.Format, ["description"] = c.Description, ["priority"] = c.Priority,
                });
            }

            table["columnDefinitions"] = defs;
        }

        var rows = new JsonArray();
        foreach (var item in items)
        {
            var cells = new JsonArray();
            foreach (var c in columns)
            {
                cells.Add(c.Cell(item.Object));
            }

            var row = new JsonObject { ["cells"] = cells };
            if (include == IncludeObject.Object)
            {
                var served = kind.ToServed(item.Object);
                row["object"] = ReferenceEquals(served, item.Object) ? served.DeepClone() : served;
            }
            else if (include == IncludeObject.Metadata)
            {
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = item.Object["metadata"]?.DeepClone(),
                };
            }

            rows.Add(row);
        }

        table["rows"] = rows;
        return table;
    }

    private List<Column> ColumnsFor(ResourceKind kind)
    {
        var name = new Column("Name", "string", "name", NameDescription, 0, o => JsonTree.Str(o["metadata"], "name"));
        var age = new Column("Age", "string", "", AgeDescription, 0, o => Age(o));
        if (kind.IsCustom)
        {
            if (kind.PrinterColumns is not { Count: > 0 } printer)
            {
                return [name, age];
            }

            var cols = new List<Column> { name };
            foreach (var pc in printer.OfType<JsonObject>())
            {
                var type = JsonTree.Str(pc, "type") ?? "string";
                var path = JsonTree.Str(pc, "jsonPath") ?? "";
                JsonTree.TryGetLong(pc["priority"], out var priority);
                cols.Add(new Column(JsonTree.Str(pc, "name") ?? path, type, JsonTree.Str(pc, "format") ?? "", JsonTree.Str(pc, "description") ?? "",
                    (int)priority, o => PrinterCell(type, SimpleJsonPath.Evaluate(o, path))));
            }

            return cols;
        }

        return (kind.Group, kind.Plural) switch
        {
            ("", "services") =>
            [
                name,
                new Column("Type", "string", "", "The type of the service.", 0, o => JsonTree.Str(o["spec"], "type")),
                new Column("Cluster-IP", "string", "", "The cluster IP of the service.", 0, o => JsonTree.Str(o["spec"], "clusterIP") is { Length: > 0 } ip ? ip : "<none>"),
                new Column("External-IP", "string", "", "The external IP of the service.", 0, ServiceExternalIp),
                new Column("Port(s)", "string", "", "The ports of the service.", 0, ServicePorts),
                age,
                new Column("Selector", "string", "", "The selector of the service.", 1, o => Selector(JsonTree.Obj(o["spec"], "selector"))),
            ],
            ("", "namespaces") => [name, new Column("Status", "string", "", "The status of the namespace", 0, o => JsonTree.Str(o["status"], "phase")), age],
            ("coordination.k8s.io", "leases") => [name, new Column("Holder", "string", "", "The holder of the lease.", 0, o => JsonTree.Str(o["spec"], "holderIdentity") ?? ""), age],
            ("", "secrets") =>
            [
                name, new Column("Type", "string", "", "The type of the secret", 0, o => JsonTree.Str(o, "type") ?? "Opaque"),
                new Column("Data", "string", "", "The number of the data in the secret", 0, o => (long)((JsonTree.Obj(o, "data")?.Count ?? 0) + (JsonTree.Obj(o, "stringData")?.Count ?? 0))), age,
            ],
            ("", "configmaps") => [name, new Column("Data", "string", "", "The number of the data in the config map", 0, o => (long)((JsonTree.Obj(o, "data")?.Count ?? 0) + (JsonTree.Obj(o, "binaryData")?.Count ?? 0))), age],
            ("", "nodes") =>
            [
                name, new Column("Status", "string", "", "The status of the node", 0, NodeStatus),
                new Column("Roles", "string", "", "The roles of the node", 0, NodeRoles), age,
                new Column("Version", "string", "", "Kubelet Version reported by the node.", 0, o => JsonTree.Str(JsonTree.Obj(o["status"], "nodeInfo"), "kubeletVersion") ?? ""),
            ],
            ("", "pods") =>
            [
                name,
                new Column("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0, PodReady),
                new Column("Status", "string", "", "The aggregate status of the containers in this pod.", 0, o => JsonTree.Str(o["status"], "reason") ?? JsonTree.Str(o["status"], "phase") ?? ""),
                new Column("Restarts", "string", "", "The number of times the containers in this pod have been restarted.", 0, PodRestarts),
                age,
            ],
            ("discovery.k8s.io", "endpointslices") =>
            [
                name, new Column("AddressType", "string", "", "The IP protocol for this slice", 0, o => JsonTree.Str(o, "addressType")),
                new Column("Ports", "string", "", "The ports of this slice", 0, SlicePorts),
                new Column("Endpoints", "string", "", "The addresses of this slice", 0, SliceEndpoints), age,
            ],
            ("", "events") or ("events.k8s.io", "events") => EventColumns(name.Description),
            _ => [name, new Column("Created At", "date", "", AgeDescription, 0, o => JsonTree.Str(o["metadata"], "creationTimestamp"))],
        };
    }

    // printEvent (pkg/printers/internalversion), wide as server-side printing is, over the stored core/v1 form.
    private List<Column> EventColumns(string nameDescription) =>
    [
        new("Last Seen", "string", "", "The time at which the most recent occurrence of this event was recorded.", 0, o => EventTimes(o).Last),
        new("Type", "string", "", "Type of this event (Normal, Warning), new types could be added in the future", 0, o => JsonTree.Str(o, "type") ?? ""),
        new("Reason", "string", "", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", 0,
            o => JsonTree.Str(o, "reason") ?? ""),
        new("Object", "string", "", "The object that this event is about.", 0, EventTarget),
        new("Subobject", "string", "", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.", 1,
            o => JsonTree.Str(o["involvedObject"], "fieldPath") ?? ""),
        new("Source", "string", "", "The component reporting this event. Should be a short machine understandable string.", 1, EventSource),
        new("Message", "string", "", "A human-readable description of the status of this operation.", 0, o => (JsonTree.Str(o, "message") ?? "").Trim()),
        new("First Seen", "string", "", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1, o => EventTimes(o).First),
        new("Count", "string", "", "The number of times this event has occurred.", 1, o => EventTimes(o).Count),
        new("Name", "string", "name", nameDescription, 1, o => JsonTree.Str(o["metadata"], "name")),
    ];

    private (string First, string Last, long Count) EventTimes(JsonObject o)
    {
        var first = JsonTree.Str(o, "firstTimestamp") is { } ft ? Since(ft) : Since(JsonTree.Str(o, "eventTime"));
        var last = JsonTree.Str(o, "lastTimestamp") is { } lt ? Since(lt) : first;
        JsonTree.TryGetLong(o["count"], out var count);
        if (o["series"] is JsonObject series)
        {
            last = Since(JsonTree.Str(series, "lastObservedTime"));
            JsonTree.TryGetLong(series["count"], out count);
        }
        else if (count == 0)
        {
            // Singleton events carry no count in the new API.
            count = 1;
        }

        return (first, last, count);
    }

    private static JsonNode? EventTarget(JsonObject o)
    {
        var kind = (JsonTree.Str(o["involvedObject"], "kind") ?? "").ToLowerInvariant();
        return JsonTree.Str(o["involvedObject"], "name") is { Length: > 0 } name ? kind + "/" + name : kind;
    }

    private static JsonNode? EventSource(JsonObject o)
    {
        var component = JsonTree.Str(o["source"], "component") is { Length: > 0 } c ? c : JsonTree.Str(o, "reportingComponent") ?? "";
        var instance = JsonTree.Str(o["source"], "host") is { Length: > 0 } h ? h : JsonTree.Str(o, "reportingInstance") ?? "";
        return instance.Length == 0 ? component : component + ", " + instance;
    }

    private string Since(string? timestamp) =>
        timestamp is null || !DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? "<unknown>"
            : HumanDuration.Format(time.GetUtcNow() - t);

    private JsonNode? Age(JsonObject o)
    {
        var ts = JsonTree.Str(o["metadata"], "creationTimestamp");
        return ts is null || !DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? "<unknown>"
            : HumanDuration.Format(time.GetUtcNow() - t);
    }

    private JsonNode? PrinterCell(string type, JsonNode? value)
    {
        if (value is null)
        {
            return null;
        }

        switch (type)
        {
            case "integer":
                return JsonTree.TryGetLong(value, out var l) ? l : null;
            case "number":
                return JsonTree.TryGetDouble(value, out var d) ? d : null;
            case "boolean":
                return JsonTree.AsBool(value) is { } b ? b : null;
            case "date":
                if (JsonTree.AsString(value) is not { } s)
                {
                    return null;
                }

                return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                    ? HumanDuration.Format(time.GetUtcNow() - t)
                    : "<invalid>";
            default:
                // jsonpath printing: strings bare, everything else as JSON.
                return JsonTree.AsString(value) ?? JsonTree.ToJsonString(value);
        }
    }

    private static JsonNode? ServiceExternalIp(JsonObject o)
    {
        var spec = JsonTree.Obj(o, "spec");
        var externalIps = (JsonTree.Arr(spec, "externalIPs") ?? []).Select(n => JsonTree.AsString(n) ?? "").ToList();
        switch (JsonTree.Str(spec, "type"))
        {
            case "ClusterIP":
            case "NodePort":
                return externalIps.Count > 0 ? string.Join(",", externalIps) : "<none>";
            case "LoadBalancer":
                var ingress = (JsonTree.Arr(JsonTree.Obj(o["status"], "loadBalancer"), "ingress") ?? [])
                    .OfType<JsonObject>()
                    .Select(i => JsonTree.Str(i, "ip") is { Length: > 0 } ip ? ip : JsonTree.Str(i, "hostname") ?? "")
                    .Where(s => s.Length > 0)
                    .ToList();
                // Server-side printing runs in wide mode, so the 16-character truncation kubectl once did is not applied.
                var lb = string.Join(",", ingress);

                if (externalIps.Count > 0)
                {
                    var all = new List<string>();
                    if (lb.Length > 0)
                    {
                        all.AddRange(lb.Split(','));
                    }

                    all.AddRange(externalIps);
                    return string.Join(",", all);
                }

                return lb.Length > 0 ? lb : "<pending>";
            case "ExternalName":
                return JsonTree.Str(spec, "externalName");
            default:
                return "<unknown>";
        }
    }

    private static JsonNode? ServicePorts(JsonObject o)
    {
        var parts = new List<string>();
        foreach (var p in (JsonTree.Arr(o["spec"], "ports") ?? []).OfType<JsonObject>())
        {
            JsonTree.TryGetLong(p["port"], out var port);
            var protocol = JsonTree.Str(p, "protocol") ?? "TCP";
            parts.Add(JsonTree.TryGetLong(p["nodePort"], out var np) && np > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{port}:{np}/{protocol}")
                : string.Create(CultureInfo.InvariantCulture, $"{port}/{protocol}"));
        }

        return parts.Count == 0 ? "<none>" : string.Join(",", parts);
    }

    private static string Selector(JsonObject? selector) =>
        selector is null || selector.Count == 0 ? "<none>" : string.Join(",", selector.Select(kv => $"{kv.Key}={JsonTree.AsString(kv.Value)}"));

    private static JsonNode? NodeStatus(JsonObject o)
    {
        var ready = (JsonTree.Arr(o["status"], "conditions") ?? []).OfType<JsonObject>().FirstOrDefault(c => JsonTree.Str(c, "type") == "Ready");
        var status = ready is null ? "Unknown" : JsonTree.Str(ready, "status") == "True" ? "Ready" : "NotReady";
        return JsonTree.AsBool(o["spec"]?["unschedulable"]) == true ? status + ",SchedulingDisabled" : status;
    }

    private static JsonNode? NodeRoles(JsonObject o)
    {
        var roles = (JsonTree.Obj(o["metadata"], "labels") ?? [])
            .Where(kv => kv.Key.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
            .Select(kv => kv.Key["node-role.kubernetes.io/".Length..])
            .Where(r => r.Length > 0)
            .Order(StringComparer.Ordinal)
            .ToList();
        return roles.Count == 0 ? "<none>" : string.Join(",", roles);
    }

    private static JsonNode? PodReady(JsonObject o)
    {
        var total = JsonTree.Arr(o["spec"], "containers")?.Count ?? 0;
        var ready = (JsonTree.Arr(o["status"], "containerStatuses") ?? []).OfType<JsonObject>().Count(c => JsonTree.AsBool(c["ready"]) == true);
        return string.Create(CultureInfo.InvariantCulture, $"{ready}/{total}");
    }

    private static JsonNode? PodRestarts(JsonObject o)
    {
        long restarts = 0;
        foreach (var c in (JsonTree.Arr(o["status"], "containerStatuses") ?? []).OfType<JsonObject>())
        {
            if (JsonTree.TryGetLong(c["restartCount"], out var r))
            {
                restarts += r;
            }
        }

        return restarts.ToString(CultureInfo.InvariantCulture);
    }

    private static JsonNode? SlicePorts(JsonObject o)
    {
        var ports = (JsonTree.Arr(o, "ports") ?? []).OfType<JsonObject>()
            .Select(p => JsonTree.TryGetLong(p["port"], out var n) ? n.ToString(CultureInfo.InvariantCulture) : "").Where(s => s.Length > 0).ToList();
        return ports.Count == 0 ? "<unset>" : string.Join(",", ports);
    }

    private static JsonNode? SliceEndpoints(JsonObject o)
    {
        var addresses = (JsonTree.Arr(o, "endpoints") ?? []).OfType<JsonObject>()
            .SelectMany(e => JsonTree.Arr(e, "addresses") ?? []).Select(a => JsonTree.AsString(a) ?? "").ToList();
        if (addresses.Count == 0)
        {
            return "<unset>";
        }

        var shown = string.Join(",", addresses.Take(3));
        return addresses.Count > 3 ? string.Create(CultureInfo.InvariantCulture, $"{shown} + {addresses.Count - 3} more...") : shown;
    }
}

// The JSONPath subset CRD printer columns use: `.a.b`, `.a[0].b`, `.a['x.y']`.
internal static class SimpleJsonPath
{
    public static JsonNode? Evaluate(JsonNode? root, string path)
    {
        var node = root;
        var i = 0;
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1];
        }

        if (p.StartsWith('$'))
        {
            i = 1;
        }

        while (i < p.Length && node is not null)
        {
            if (p[i] == '.')
            {
                var start = ++i;
                while (i < p.Length && p[i] != '.' && p[i] != '[')
                {
                    i++;
                }

                node = (node as JsonObject)?[p[start..i]];
            }
            else if (p[i] == '[')
            {
                var end = p.IndexOf(']', i);
                if (end < 0)
                {
                    return null;
                }

                var inner = p[(i + 1)..end].Trim('\'', '"');
                node = int.TryParse(inner, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var idx)
                    ? node is JsonArray a && idx < a.Count && idx >= -a.Count ? a[idx < 0 ? a.Count + idx : idx] : null
                    : (node as JsonObject)?[inner];
                i = end + 1;
            }
            else
            {
                return null;
            }
        }

        return node;
    }
}
