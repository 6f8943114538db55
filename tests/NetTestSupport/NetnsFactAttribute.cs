namespace BareLb.NetTestSupport;

/// <summary>
/// A test that needs root and network namespaces. It skips only where that capability is truly absent, and the
/// skip reason says why; <c>scripts/test.sh</c> fails a CI run in which any test was skipped.
/// </summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (NetnsCapability.MissingReason is { } why)
        {
            Skip = why;
        }
    }
}

/// <summary>Like <see cref="NetnsFactAttribute"/> for theories.</summary>
public sealed class NetnsTheoryAttribute : TheoryAttribute
{
    public NetnsTheoryAttribute()
    {
        if (NetnsCapability.MissingReason is { } why)
        {
            Skip = why;
        }
    }
}

public static class NetnsCapability
{
    private static readonly Lazy<string?> Missing = new(Probe);

    /// <summary>Null when namespaces can be created here; otherwise the reason they cannot.</summary>
    public static string? MissingReason => Missing.Value;

    /// <summary>Throws, naming the Debian package, when a tool a test drives is not installed.</summary>
    public static void RequireTool(string command, string package)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Concat(["/usr/sbin", "/sbin"])
            .Any(dir => File.Exists(Path.Combine(dir, command)));
        if (!found)
        {
            throw new InvalidOperationException($"`{command}` is not installed (Debian package {package}); scripts/prerequisites.sh installs it");
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
        {
            return "network namespace tests need root (run scripts/test.sh as root)";
        }
        try
        {
            var probe = NetworkNamespace.CreateAsync("probe").GetAwaiter().GetResult();
            probe.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e)
        {
            return $"cannot create a network namespace here: {e.Message}";
        }
    }
}
