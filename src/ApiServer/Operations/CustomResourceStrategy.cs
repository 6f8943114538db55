using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Operations;

// Custom resources: prune unknown fields, default, then validate against the version's structural schema
// (the order the real apiextensions-apiserver uses).
internal sealed class CustomResourceStrategy : ResourceStrategy
{
    public static readonly CustomResourceStrategy Instance = new();

    public override void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
        if (kind.Schema is null)
        {
            return;
        }

        kind.Schema.Prune(obj, unknownFields);
        kind.Schema.ApplyDefaults(obj);
    }

    public override void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors) =>
        kind.Schema?.Validate(obj, errors);
}
