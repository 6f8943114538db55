using BareLb.Kubernetes.Config;

namespace BareLb.Kubernetes.Http;

/// <summary>
/// The bearer token for requests: a fixed string, or a file the kubelet rewrites as it rotates projected
/// service account tokens. The file is re-read when the cached copy is a minute old, and at once after a 401
/// (the server may have moved on to the new token before our minute was up).
/// </summary>
internal sealed class BearerTokenSource
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(1);

    private readonly string? _path;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private string _token;
    private long _readAt;

    public BearerTokenSource(string token)
    {
        _token = token;
        _time = TimeProvider.System;
    }

    public BearerTokenSource(string path, TimeProvider time)
    {
        _path = path;
        _time = time;
        _token = ReadFile(path) ?? throw new KubernetesConfigurationException($"token file {path}: empty");
        _readAt = time.GetTimestamp();
    }

    public bool IsFile => _path is not null;

    /// <summary>Raised with the exception when a scheduled re-read fails; the last good token stays in use.</summary>
    public Action<string, Exception>? RefreshFailed { get; init; }

    public string GetToken()
    {
        if (_path is null)
        {
            return _token;
        }
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
        if (_path is null)
        {
            return false;
        }
        lock (_lock)
        {
            Refresh();
            return !string.Equals(_token, rejected, StringComparison.Ordinal);
        }
    }

    private void Refresh()
    {
        // Counted as a read even when it fails, so a missing file is not retried on every request.
        _readAt = _time.GetTimestamp();
        try
        {
            if (ReadFile(_path!) is { } token)
            {
                _token = token;
            }
        }
        catch (KubernetesConfigurationException e)
        {
            RefreshFailed?.Invoke(_path!, e);
        }
    }

    private static string? ReadFile(string path)
    {
        try
        {
            var token = File.ReadAllText(path).Trim();
            return token.Length == 0 ? null : token;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubernetesConfigurationException($"token file {path}: cannot read: {e.Message}", e);
        }
    }
}
