namespace BareLb.ApiServer;

public sealed class ApiServerOptions
{
    public string BindAddress { get; set; } = "127.0.0.1";

    public int Port { get; set; }

    public bool UseHttps { get; set; }

    public string? CrdDirectory { get; set; }

    public string? KubeconfigPath { get; set; }

    public string? RequiredBearerToken { get; set; }

    public int WatchHistorySize { get; set; } = 100000;

    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(60);
}
