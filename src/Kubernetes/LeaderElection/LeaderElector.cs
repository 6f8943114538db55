using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.LeaderElection;

/// <summary>
/// Lease-based leader election (the protocol of client-go's leaderelection package). A candidate takes the
/// Lease when it does not exist, when its holderIdentity is empty (released), or when the Lease has not changed
/// for its leaseDurationSeconds as measured on this node's monotonic clock from the moment this candidate saw the
/// current resourceVersion. The remote renewTime is never compared with the local wall clock, so clock skew
/// between nodes cannot produce two leaders. The leader renews every RetryPeriod by an update that carries the
/// resourceVersion it wrote last; a 409 whose re-read shows another holder, or no successful renewal within
/// RenewDeadline, ends leadership.
/// </summary>
/// <remarks>
/// After leadership ends for any reason other than shutdown, the elector becomes a candidate again; a process
/// that prefers to restart can do so from <see cref="LeaderElectionCallbacks.OnStoppedLeading"/>.
/// </remarks>
public sealed class LeaderElector
{
    private readonly LeaseLock _lock;
    private readonly LeaderElectionOptions _options;
    private readonly LeaderElectionCallbacks _callbacks;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private V1Lease? _observed;
    private long _observedAt;
    private string? _reportedLeader;
    private int _started;
    private volatile bool _isLeader;

    public LeaderElector(LeaseLock leaseLock, LeaderElectionOptions? options, LeaderElectionCallbacks? callbacks, ILogger logger,
        TimeProvider? timeProvider = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(leaseLock);
        ArgumentNullException.ThrowIfNull(logger);
        options ??= new LeaderElectionOptions();
        options.Validate();
        _lock = leaseLock;
        _options = options;
        _callbacks = callbacks ?? new LeaderElectionCallbacks();
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared;
    }

    public string Identity => _lock.Identity;

    public bool IsLeader => _isLeader;

    /// <summary>The holder last seen on the Lease (null before the first read or while released).</summary>
    public string? CurrentLeader => Volatile.Read(ref _reportedLeader);

    /// <summary>Competes for the Lease, leads while it holds it, and on cancellation releases it and returns.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"Lease {_lock}: RunAsync may be called only once per elector");
        }

        try
        {
            while (true)
            {
                var acquiredAt = await AcquireAsync(ct).ConfigureAwait(false);
                if (await LeadAsync(acquiredAt, ct).ConfigureAwait(false))
                {
                    // Our work failed: let a healthy standby take the released Lease before competing again.
                    await Task.Delay(_options.LeaseDuration, _time, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Tries until the Lease is ours; returns the local timestamp taken just before the winning write.</summary>
    private async Task<long> AcquireAsync(CancellationToken ct)
    {
        while (true)
        {
            var attemptStart = _time.GetTimestamp();
            try
            {
                using var timeoutCts = new CancellationTokenSource(_options.RenewDeadline, _time);
                using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
                if (await TryAcquireOrRenewAsync(attemptCts.Token).ConfigureAwait(false))
                {
                    return attemptStart;
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                LeaderElectionLog.AcquireFailed(_logger, _lock.ToString(), Identity, ex);
            }

            // Standbys poll a little faster than RetryPeriod, never slower, so that after a release the next
            // leader is in place within one RetryPeriod; the jitter keeps standbys from polling in lockstep.
            var delay = _options.RetryPeriod * (0.8 + 0.2 * _random.NextDouble());
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken ct)
    {
        var lease = await _lock.GetAsync(ct).ConfigureAwait(false);
        if (lease is null)
        {
            var now = _time.GetUtcNow();
            try
            {
                var created = await _lock.CreateAsync(new V1LeaseSpec
                {
                    HolderIdentity = Identity,
                    LeaseDurationSeconds = _options.LeaseDurationSeconds,
                    AcquireTime = now.UtcDateTime,
                    RenewTime = now.UtcDateTime,
                    LeaseTransitions = 0,
                }, ct).ConfigureAwait(false);
                Observe(created);
                return true;
            }
            catch (AlreadyExistsException)
            {
                // Another candidate created it between our read and our create; the next attempt reads it.
                return false;
            }
        }

        Observe(lease);
        var holder = lease.Spec?.HolderIdentity;
        if (!string.IsNullOrEmpty(holder) && holder != Identity && !ObservedLeaseExpired(lease))
        {
            return false;
        }

        try
        {
            return await WriteOwnershipAsync(lease, ct).ConfigureAwait(false);
        }
        catch (ConflictException)
        {
            return false;
        }
    }

    private bool ObservedLeaseExpired(V1Lease lease)
    {
        var seconds = lease.Spec?.LeaseDurationSeconds is > 0 and var s ? s : _options.LeaseDurationSeconds;
        return _time.GetElapsedTime(_observedAt) >= TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Writes this candidate as holder onto <paramref name="lease"/>; conflicts propagate.</summary>
    private async Task<bool> WriteOwnershipAsync(V1Lease observed, CancellationToken ct)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var old = observed.Spec ?? new V1LeaseSpec();
        var taken = old.HolderIdentity != Identity;
        var spec = new V1LeaseSpec
        {
            HolderIdentity = Identity,
            LeaseDurationSeconds = _options.LeaseDurationSeconds,
            AcquireTime = taken ? now : old.AcquireTime ?? now,
            RenewTime = now,
            LeaseTransitions = taken ? (old.LeaseTransitions ?? 0) + 1 : old.LeaseTransitions ?? 0,
        };
        var written = await _lock.WriteSpecAsync(observed, spec, ct).ConfigureAwait(false);
        Observe(written);
        return true;
    }

    /// <summary>Leads until leadership is lost or the work ends; returns true when the work ended by itself.</summary>
    private async Task<bool> LeadAsync(long lastRenew, CancellationToken ct)
    {
        _isLeader = true;
        LeaderElectionLog.Acquired(_logger, _lock.ToString(), Identity);
        using var leadingCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var work = StartLeading(leadingCts.Token);
        var released = false;
        var workEnded = false;
        try
        {
            using var renewCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var renew = RenewUntilLostAsync(lastRenew, renewCts.Token);
            if (_callbacks.OnStartedLeading is not null &&
                await Task.WhenAny(renew, work).ConfigureAwait(false) == work && !ct.IsCancellationRequested)
            {
                // The work ended (or failed) while we still lead: holding the Lease now would keep a standby from
                // doing the work. Step down and hand the Lease over at once.
                workEnded = true;
                LeaderElectionLog.WorkEnded(_logger, _lock.ToString(), Identity);
                await renewCts.CancelAsync().ConfigureAwait(false);
                try
                {
                    await renew.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
            else
            {
                await renew.ConfigureAwait(false);
            }
        }
        finally
        {
            // Stop the work first and wait for it: only then may another candidate be let in.
            _isLeader = false;
            await leadingCts.CancelAsync().ConfigureAwait(false);
            await AwaitWorkAsync(work).ConfigureAwait(false);
            if ((ct.IsCancellationRequested || workEnded) && _options.ReleaseOnCancel)
            {
                released = await ReleaseAsync().ConfigureAwait(false);
            }
            Invoke(nameof(LeaderElectionCallbacks.OnStoppedLeading), () => _callbacks.OnStoppedLeading?.Invoke());
            if (released)
            {
                Volatile.Write(ref _reportedLeader, null);
            }
        }
        return workEnded;
    }

    /// <summary>Renews every RetryPeriod; returns when leadership is lost, throws when <paramref name="ct"/> fires.</summary>
    private async Task RenewUntilLostAsync(long lastRenew, CancellationToken ct)
    {
        var retryNow = false;
        while (true)
        {
            if (!retryNow)
            {
                await Task.Delay(_options.RetryPeriod, _time, ct).ConfigureAwait(false);
            }
            retryNow = false;

            var remaining = _options.RenewDeadline - _time.GetElapsedTime(lastRenew);
            if (remaining <= TimeSpan.Zero)
            {
                LeaderElectionLog.RenewDeadlineExceeded(_logger, _lock.ToString(), Identity, _options.RenewDeadline);
                return;
            }

            var attemptStart = _time.GetTimestamp();
            using var deadlineCts = new CancellationTokenSource(remaining, _time);
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct, deadlineCts.Token);
            try
            {
                await WriteOwnershipAsync(_observed!, attemptCts.Token).ConfigureAwait(false);
                lastRenew = attemptStart;
            }
            catch (ConflictException)
            {
                // Someone else wrote the Lease since we last did. It is still ours only if the holder says so
                // (e.g. a label was edited); then renew at once with the fresh resourceVersion.
                V1Lease? current;
                try
                {
                    current = await _lock.GetAsync(attemptCts.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OperationCanceledException)
                {
                    LeaderElectionLog.RenewFailed(_logger, _lock.ToString(), Identity, ex);
                    continue;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    retryNow = true;
                    continue;
                }

                if (current is null || current.Spec?.HolderIdentity != Identity)
                {
                    if (current is not null)
                    {
                        Observe(current);
                    }
                    LeaderElectionLog.Lost(_logger, _lock.ToString(), Identity, current?.Spec?.HolderIdentity ?? "(lease deleted)");
                    return;
                }
                Observe(current);
                retryNow = true;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The renewal outlived the deadline; the check at the top of the loop steps down.
                retryNow = true;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                LeaderElectionLog.RenewFailed(_logger, _lock.ToString(), Identity, ex);
            }
        }
    }

    private async Task<bool> ReleaseAsync()
    {
        if (_observed is null || _observed.Spec?.HolderIdentity != Identity)
        {
            return false;
        }

        // The caller's token is already cancelled; the release gets its own bounded time.
        using var releaseCts = new CancellationTokenSource(_options.RenewDeadline, _time);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                var now = _time.GetUtcNow().UtcDateTime;
                var released = new V1LeaseSpec
                {
                    HolderIdentity = "",
                    LeaseDurationSeconds = 1,
                    RenewTime = now,
                    AcquireTime = now,
                    LeaseTransitions = _observed.Spec?.LeaseTransitions ?? 0,
                };
                Observe(await _lock.WriteSpecAsync(_observed, released, releaseCts.Token).ConfigureAwait(false));
                LeaderElectionLog.Released(_logger, _lock.ToString(), Identity);
                return true;
            }
            catch (ConflictException)
            {
                var current = await TryGetAsync(releaseCts.Token).ConfigureAwait(false);
                if (current is null || current.Spec?.HolderIdentity != Identity)
                {
                    // No longer ours to release.
                    return false;
                }
                Observe(current);
            }
            catch (Exception ex)
            {
                LeaderElectionLog.ReleaseFailed(_logger, _lock.ToString(), Identity, ex);
                return false;
            }
        }

        LeaderElectionLog.ReleaseFailed(_logger, _lock.ToString(), Identity, null);
        return false;
    }

    private async Task<V1Lease?> TryGetAsync(CancellationToken ct)
    {
        try
        {
            return await _lock.GetAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LeaderElectionLog.ReleaseFailed(_logger, _lock.ToString(), Identity, ex);
            return null;
        }
    }

    /// <summary>Remembers the Lease and, when its resourceVersion changed, the local time we first saw it.</summary>
    private void Observe(V1Lease lease)
    {
        if (_observed is null || _observed.Metadata.ResourceVersion != lease.Metadata.ResourceVersion)
        {
            _observedAt = _time.GetTimestamp();
        }
        _observed = lease;

        var holder = lease.Spec?.HolderIdentity;
        if (!string.IsNullOrEmpty(holder) && holder != Volatile.Read(ref _reportedLeader))
        {
            Volatile.Write(ref _reportedLeader, holder);
            LeaderElectionLog.NewLeader(_logger, _lock.ToString(), holder);
            Invoke(nameof(LeaderElectionCallbacks.OnNewLeader), () => _callbacks.OnNewLeader?.Invoke(holder));
        }
    }

    private Task StartLeading(CancellationToken leadingToken)
    {
        var onStarted = _callbacks.OnStartedLeading;
        return onStarted is null ? Task.CompletedTask : Task.Run(() => onStarted(leadingToken), CancellationToken.None);
    }

    private async Task AwaitWorkAsync(Task work)
    {
        try
        {
            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            LeaderElectionLog.CallbackFailed(_logger, _lock.ToString(), nameof(LeaderElectionCallbacks.OnStartedLeading), ex);
        }
    }

    private void Invoke(string name, Action callback)
    {
        try
        {
            callback();
        }
        catch (Exception ex)
        {
            LeaderElectionLog.CallbackFailed(_logger, _lock.ToString(), name, ex);
        }
    }
}
