using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Events;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Services;

namespace BareLb.ApiServer.Resources;

// The built-in kinds this emulator serves, with the per-kind flags of their real registry strategies.
internal static class BuiltInKinds
{
    public static List<ResourceKind> Create(CrdStrategy crdStrategy) =>
    [
        new()
        {
            Group = "", Version = "v1", Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false,
            HasStatus = true, ResetStatusOnCreate = true, NameRule = NameRule.Dns1123Label, ShortNames = ["ns"],
            TimeFields = [new("status.conditions.*.lastTransitionTime")],
            ReturnDeletedObject = true, Strategy = new NamespaceStrategy(),
            SelectableFields = Fields(("status.phase", o => Path(o, "status", "phase"))),
        },
        new()
        {
            Group = "", Version = "v1", Plural = "services", Singular = "service", Kind = "Service", Namespaced = true,
            HasStatus = true, ResetStatusOnCreate = true, AllowCreateOnUpdate = true, NameRule = NameRule.Dns1035Label, ShortNames = ["svc"],
            Categories = ["all"], ReturnDeletedObject = true, Strategy = new ServiceStrategy(),
            TimeFields = [new("status.conditions.*.lastTransitionTime")],
        },
        new()
        {
            Group = "", Version = "v1", Plural = "nodes", Singular = "node", Kind = "Node", Namespaced = false,
            HasStatus = true, ShortNames = ["no"], Strategy = DefaultStrategy.Instance,
            TimeFields = [new("spec.taints.*.timeAdded"), new("status.conditions.*.lastHeartbeatTime"), new("status.conditions.*.lastTransitionTime")],
            SelectableFields = Fields(("spec.unschedulable", o => Path(o, "spec", "unschedulable") is { Length: > 0 } v ? v : "false")),
        },
        new()
        {
            Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true,
            HasStatus = true, ResetStatusOnCreate = true, ShortNames = ["po"], Categories = ["all"], ReturnDeletedObject = true,
            Strategy = new PodStrategy(),
            TimeFields = PodTimeFields(),
            SelectableFields = Fields(
                ("spec.nodeName", o => Path(o, "spec", "nodeName")),
                ("spec.restartPolicy", o => Path(o, "spec", "restartPolicy")),
                ("spec.schedulerName", o => Path(o, "spec", "schedulerName")),
                ("spec.serviceAccountName", o => Path(o, "spec", "serviceAccountName")),
                ("spec.hostNetwork", o => Path(o, "spec", "hostNetwork") is { Length: > 0 } v ? v : "false"),
                ("status.phase", o => Path(o, "status", "phase")),
                ("status.podIP", o => Path(o, "status", "podIP")),
                ("status.nominatedNodeName", o => Path(o, "status", "nominatedNodeName"))),
        },
        new()
        {
            Group = "", Version = "v1", Plural = "secrets", Singular = "secret", Kind = "Secret", Namespaced = true,
            Strategy = DefaultStrategy.Instance, SelectableFields = Fields(("type", o => Path(o, "type"))),
        },
        new()
        {
            Group = "", Version = "v1", Plural = "configmaps", Singular = "configmap", Kind = "ConfigMap", Namespaced = true,
            ShortNames = ["cm"], Strategy = DefaultStrategy.Instance,
        },
        new()
        {
            Group = "", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
            AllowCreateOnUpdate = true, ShortNames = ["ev"], NameRule = NameRule.PathSegment, Strategy = EventStrategy.Instance,
            GarbageCollectionUnsupported = true,
            TimeFields = [new("firstTimestamp"), new("lastTimestamp"), new("eventTime", Micro: true), new("series.lastObservedTime", Micro: true)],
            SelectableFields = Fields(
                ("involvedObject.kind", o => Path(o, "involvedObject", "kind")),
                ("involvedObject.namespace", o => Path(o, "involvedObject", "namespace")),
                ("involvedObject.name", o => Path(o, "involvedObject", "name")),
                ("involvedObject.uid", o => Path(o, "involvedObject", "uid")),
                ("involvedObject.apiVersion", o => Path(o, "involvedObject", "apiVersion")),
                ("involvedObject.resourceVersion", o => Path(o, "involvedObject", "resourceVersion")),
                ("involvedObject.fieldPath", o => Path(o, "involvedObject", "fieldPath")),
                ("reason", o => Path(o, "reason")),
                ("reportingComponent", o => Path(o, "reportingComponent")),
                ("source", EventSource),
                ("type", o => Path(o, "type"))),
        },
        // Same table as core/v1 events, converted (pkg/registry/events, pkg/apis/events/v1/conversion.go); the field
        // selector labels map onto the core ones (AddFieldLabelConversionsForEvent).
        new()
        {
            Group = "events.k8s.io", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
            AllowCreateOnUpdate = true, ShortNames = ["ev"], Strategy = EventStrategy.Instance, GarbageCollectionUnsupported = true,
            StorageGroup = "", StorageVersion = "v1", FromStorage = EventConversion.ToV1,
            TimeFields = [new("deprecatedFirstTimestamp"), new("deprecatedLastTimestamp"), new("eventTime", Micro: true), new("series.lastObservedTime", Micro: true)],
            SelectableFields = Fields(
                ("regarding.kind", o => Path(o, "involvedObject", "kind")),
                ("regarding.namespace", o => Path(o, "involvedObject", "namespace")),
                ("regarding.name", o => Path(o, "involvedObject", "name")),
                ("regarding.uid", o => Path(o, "involvedObject", "uid")),
                ("regarding.apiVersion", o => Path(o, "involvedObject", "apiVersion")),
                ("regarding.resourceVersion", o => Path(o, "involvedObject", "resourceVersion")),
                ("regarding.fieldPath", o => Path(o, "involvedObject", "fieldPath")),
                ("reason", o => Path(o, "reason")),
                ("reportingController", o => Path(o, "reportingComponent")),
                ("source", EventSource),
                ("type", o => Path(o, "type"))),
        },
        new()
        {
            Group = "discovery.k8s.io", Version = "v1", Plural = "endpointslices", Singular = "endpointslice", Kind = "EndpointSlice",
            Namespaced = true, TracksGeneration = true, Strategy = DefaultStrategy.Instance,
        },
        new()
        {
            Group = "coordination.k8s.io", Version = "v1", Plural = "leases", Singular = "lease", Kind = "Lease", Namespaced = true,
            AllowCreateOnUpdate = true, Strategy = DefaultStrategy.Instance,
            TimeFields = [new("spec.acquireTime", Micro: true), new("spec.renewTime", Micro: true)],
        },
        new()
        {
            Group = "apiextensions.k8s.io", Version = "v1", Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
            Kind = "CustomResourceDefinition", Namespaced = false, HasStatus = true, ResetStatusOnCreate = true, TracksGeneration = true,
            AllowUnconditionalUpdate = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"], Strategy = crdStrategy,
            TimeFields = [new("status.conditions.*.lastTransitionTime")],
        },
    ];

    // "source" selects on source.component, or reportingController when the event has no source.
    private static string EventSource(JsonObject o) => Path(o, "source", "component") is { Length: > 0 } c ? c : Path(o, "reportingComponent");

    private static TimeField[] PodTimeFields()
    {
        var fields = new List<TimeField>
        {
            new("status.startTime"), new("status.conditions.*.lastProbeTime"), new("status.conditions.*.lastTransitionTime"),
        };
        foreach (var list in (string[])["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"])
        {
            foreach (var state in (string[])["state", "lastState"])
            {
                var prefix = $"status.{list}.*.{state}.";
                fields.Add(new(prefix + "running.startedAt"));
                fields.Add(new(prefix + "terminated.startedAt"));
                fields.Add(new(prefix + "terminated.finishedAt"));
            }
        }

        return [.. fields];
    }

    private static Dictionary<string, Func<JsonObject, string>> Fields(params (string Name, Func<JsonObject, string> Read)[] fields) =>
        fields.ToDictionary(f => f.Name, f => f.Read);

    private static string Path(JsonObject obj, params string[] path)
    {
        JsonNode? node = obj;
        foreach (var p in path)
        {
            node = (node as JsonObject)?[p];
        }

        return node switch
        {
            null => "",
            JsonValue v when JsonTree.AsString(v) is { } s => s,
            _ => JsonTree.ToJsonString(node),
        };
    }
}
