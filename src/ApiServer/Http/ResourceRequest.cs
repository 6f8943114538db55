using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Http;

// A request against /api/v1/... or /apis/{group}/{version}/...: kind, namespace (null = all / cluster-scoped),
// name (null = collection) and subresource.
internal sealed record ResourceRequest(ResourceKind Kind, string? Namespace, string? Name, string? Subresource)
{
    public string NamespaceOrEmpty => Namespace ?? "";

    public static ResourceRequest Parse(ResourceCatalog catalog, string group, string version, ReadOnlySpan<string> rest)
    {
        string? ns = null;
        string plural;
        string? name = null;
        string? sub = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && !(rest.Length == 3 && rest[2] is "status" or "finalize"))
        {
            ns = rest[1];
            plural = rest[2];
            name = rest.Length > 3 ? rest[3] : null;
            sub = rest.Length > 4 ? rest[4] : null;
            if (rest.Length > 5)
            {
                throw ApiErrors.NotFoundPath();
            }
        }
        else
        {
            plural = rest[0];
            name = rest.Length > 1 ? rest[1] : null;
            sub = rest.Length > 2 ? rest[2] : null;
            if (rest.Length > 3)
            {
                throw ApiErrors.NotFoundPath();
            }
        }

        var kind = catalog.Find(group, version, plural) ?? throw ApiErrors.NotFoundPath();
        if (!kind.Namespaced && ns is not null)
        {
            throw ApiErrors.NotFoundPath();
        }

        if (sub is not null && !(sub == "status" && kind.HasStatus) && !(sub == "finalize" && kind.Group.Length == 0 && kind.Plural == "namespaces"))
        {
            throw ApiErrors.NotFoundPath();
        }

        if (name is { Length: 0 } || ns is { Length: 0 })
        {
            throw ApiErrors.NotFoundPath();
        }

        return new ResourceRequest(kind, ns, name, sub);
    }
}
