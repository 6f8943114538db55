using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Selectors;
using BareLb.ApiServer.Storage;
using Microsoft.Extensions.Primitives;

namespace BareLb.ApiServer.Http;

// The label selector, field selector and (for single-object watches) name a request filters on.
internal sealed class Filters
{
    private readonly LabelSelector _labels;
    private readonly FieldSelector _fields;
    private readonly string? _name;

    private Filters(LabelSelector labels, FieldSelector fields, string? name)
    {
        _labels = labels;
        _fields = fields;
        _name = name;
    }

    public bool IsEmpty => _labels.IsEmpty && _fields.IsEmpty && _name is null;

    public static Filters Build(ResourceKind kind, StringValues labelSelector, StringValues fieldSelector, string? name = null) =>
        new(LabelSelector.Parse(labelSelector.ToString()), FieldSelector.Parse(fieldSelector.ToString(), kind), name);

    public bool Matches(StoredObject obj) => (_name is null || obj.Name == _name) && _labels.Matches(obj.Labels) && _fields.Matches(obj);
}
