namespace BareLb.Kubernetes.Config;

/// <summary>
/// A bearer token kept in a file that the kubelet rewrites as it rotates projected service account tokens (or that
/// a kubeconfig names with <c>tokenFile</c>). The file is re-read when the cached copy is a minute old, and at once
/// after a 401 (the server may have moved on to the new token before our minute was up).
/// </summary>
internal sealed class BearerTokenSource
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(1);

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private string _token;
    private long _readAt;

    public BearerTokenSource(string path, TimeProvider time)
    {
        _path = path;
        _time = time;
        _token = ReadRequired(path, "token file");
        _readAt = time.GetTimestamp();
    }

    public string Path => _path;

    /// <summary>Raised with the exception when a scheduled re-read fails; the last good token stays in use.</summary>
    public Action<string, Exception>? RefreshFailed { get; init; }

    public string GetToken()
    {
        lock (_lock)
        {
            if (_time.GetElapsedTime(_readAt) >= RefreshInterval)
            {
                Refresh();
            }
            return _token;
        }
    }

    /// <summary>Re-reads the file now; true when it holds a token other than <paramref name="rejected"/>.</summary>
    public bool RefreshAfterUnauthorized(string rejected)
    {
        lock (_lock)
        {
            Refresh();
            return !string.Equals(_token, rejected, StringComparison.Ordinal);
        }
    }

    /// <summary>Reads a token file that must exist and be non-empty; <paramref name="what"/> prefixes the error.</summary>
    public static string ReadRequired(string path, string what)
    {
        string token;
        try
        {
            token = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubernetesConfigurationException($"{what}: cannot read {path}: {e.Message}", e);
        }
        return token.Length > 0 ? token : throw new KubernetesConfigurationException($"{what}: {path} is empty");
    }

    private void Refresh()
    {
        // Counted as a read even when it fails, so a missing file is not retried on every request.
        _readAt = _time.GetTimestamp();
        try
        {
            _token = ReadRequired(_path, "token file");
        }
        catch (KubernetesConfigurationException e)
        {
            RefreshFailed?.Invoke(_path, e);
        }
    }
}
