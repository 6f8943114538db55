namespace BareLb.ApiServer.Http;

// The current simulated outage, and a token that fires when one begins so that open watches can react.
internal sealed class OutageSwitch
{
    private readonly Lock _gate = new();
    private CancellationTokenSource _began = new();
    private volatile ApiOutage _mode;

    public ApiOutage Mode => _mode;

    /// <summary>Cancelled when an outage begins or changes mode.</summary>
    public CancellationToken Began
    {
        get
        {
            lock (_gate)
            {
                return _began.Token;
            }
        }
    }

    public void Set(ApiOutage mode)
    {
        CancellationTokenSource? fire = null;
        lock (_gate)
        {
            var changed = _mode != mode;
            _mode = mode;
            if (mode != ApiOutage.None && changed)
            {
                fire = _began;
                _began = new CancellationTokenSource();
            }
        }

        fire?.Cancel();
        fire?.Dispose();
    }
}
