using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Schema;

namespace BareLb.ApiServer.Events;

// The field names of core/v1 and events.k8s.io/v1 Event (as of 1.32), used only to drop unknown fields the way
// decoding into the Go structs does (and to report them for fieldValidation). Types are not checked here.
internal static class EventSchemas
{
    private const string Reference =
        """{"type":"object","properties":{"apiVersion":{"type":"string"},"fieldPath":{"type":"string"},"kind":{"type":"string"},"name":{"type":"string"},"namespace":{"type":"string"},"resourceVersion":{"type":"string"},"uid":{"type":"string"}}}""";

    private const string Source = """{"type":"object","properties":{"component":{"type":"string"},"host":{"type":"string"}}}""";

    private const string Series = """{"type":"object","properties":{"count":{"type":"integer"},"lastObservedTime":{"type":"string"}}}""";

    public static readonly StructuralSchema Core = Build("""
        {"type":"object","properties":{
          "action":{"type":"string"},"count":{"type":"integer"},"eventTime":{"type":"string"},"firstTimestamp":{"type":"string"},
          "involvedObject":REF,"lastTimestamp":{"type":"string"},"message":{"type":"string"},"reason":{"type":"string"},
          "related":REF,"reportingComponent":{"type":"string"},"reportingInstance":{"type":"string"},
          "series":SERIES,"source":SOURCE,"type":{"type":"string"}}}
        """.Replace("REF", Reference, StringComparison.Ordinal).Replace("SERIES", Series, StringComparison.Ordinal).Replace("SOURCE", Source, StringComparison.Ordinal));

    public static readonly StructuralSchema V1 = Build("""
        {"type":"object","properties":{
          "action":{"type":"string"},"deprecatedCount":{"type":"integer"},"deprecatedFirstTimestamp":{"type":"string"},
          "deprecatedLastTimestamp":{"type":"string"},"deprecatedSource":SOURCE,"eventTime":{"type":"string"},
          "note":{"type":"string"},"reason":{"type":"string"},"regarding":REF,"related":REF,
          "reportingController":{"type":"string"},"reportingInstance":{"type":"string"},"series":SERIES,"type":{"type":"string"}}}
        """.Replace("REF", Reference, StringComparison.Ordinal).Replace("SERIES", Series, StringComparison.Ordinal).Replace("SOURCE", Source, StringComparison.Ordinal));

    private static StructuralSchema Build(string json)
    {
        var errors = new List<FieldError>();
        var schema = StructuralSchema.Parse(JsonNode.Parse(json)!.AsObject(), "", errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("built-in Event schema is malformed: " + string.Join("; ", errors));
        }

        return schema;
    }
}
