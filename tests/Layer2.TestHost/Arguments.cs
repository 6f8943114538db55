using System.Globalization;

namespace BareLb.Layer2.TestHost;

internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Arguments Parse(string[] args)
    {
        var result = new Arguments();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --name before '{args[i]}'");
            }
            result._values[args[i][2..]] = args[i + 1];
        }
        return result;
    }

    public string Get(string name) => _values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    public string? Find(string name) => _values.GetValueOrDefault(name);

    public int GetInt(string name, int fallback) => _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double GetDouble(string name, double fallback) => _values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

internal static class Sys
{
    /// <summary>The MAC of an interface, from sysfs (ip netns exec mounts the namespace's own sysfs).</summary>
    public static MacAddress Mac(string interfaceName) =>
        MacAddress.Parse(File.ReadAllText($"/sys/class/net/{interfaceName}/address").Trim());
}
