using System.Net;

namespace BareLb.Allocator.Tests;

// Short builders so that each table row reads like the configuration it stands for.
internal static class TestData
{
    public static IpRange Range(string text) =>
        IpRange.TryParse(text, out var range, out var error) ? range : throw new ArgumentException(error, nameof(text));

    public static PoolDefinition Pool(string name, params string[] ranges) => new(name, [.. ranges.Select(Range)]);

    public static ServiceAllocationPolicy Allocation(
        int? priority = null,
        string[]? namespaces = null,
        LabelMatcher[]? namespaceSelectors = null,
        LabelMatcher[]? serviceSelectors = null) =>
        new(priority, namespaces ?? [], namespaceSelectors ?? [], serviceSelectors ?? []);

    public static LabelMatcher Labels(params (string Key, string Value)[] labels) =>
        new(labels.ToDictionary(l => l.Key, l => l.Value), []);

    public static ServiceRequest Service(string key)
    {
        var slash = key.IndexOf('/');
        return new ServiceRequest { Key = new ServiceKey(key[..slash], key[(slash + 1)..]) };
    }

    public static ServiceKey Key(string key) => Service(key).Key;

    public static IPAddress Ip(string text) => IPAddress.Parse(text);

    public static IReadOnlyDictionary<string, string> Dict(params (string Key, string Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);

    public static PoolAllocator AllocatorWith(params PoolDefinition[] pools)
    {
        var allocator = new PoolAllocator();
        allocator.SetPools(pools);
        return allocator;
    }

    public static string[] Addresses(this AllocationResult result) =>
        result.Succeeded
            ? [.. result.Assignment!.Addresses.Select(a => a.ToString())]
            : throw new InvalidOperationException($"allocation failed: {result.Failure} {result.Message}");

    public static string[] Addresses(this Assignment? assignment) =>
        assignment is null ? [] : [.. assignment.Addresses.Select(a => a.ToString())];
}
