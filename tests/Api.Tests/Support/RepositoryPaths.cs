namespace BareLb.Api.Tests.Support;

// Files the tests read from the checkout: the project root is the folder holding BareLb.sln.
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Crds => Path.Combine(Root, "crds");

    public static string Examples => Path.Combine(Root, "examples");

    // MetalLB's configsamples sit beside the project, never inside it (see their SOURCE.md).
    public static string MetalLBSamples => Path.GetFullPath(Path.Combine(Root, "..", "shared", "fixtures", "metallb-configsamples"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BareLb.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no BareLb.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A fact that is skipped, saying why, when MetalLB's configuration samples are not beside the checkout.</summary>
public sealed class MetalLBSamplesFactAttribute : FactAttribute
{
    public MetalLBSamplesFactAttribute()
    {
        if (!Directory.Exists(RepositoryPaths.MetalLBSamples))
        {
            Skip = $"MetalLB configuration samples not found at {RepositoryPaths.MetalLBSamples} " +
                   "(../shared/fixtures/metallb-configsamples relative to the project root; present in CI)";
        }
    }
}
