using System.Security.Cryptography;
using BareLb.Api;
using BareLb.Kubernetes;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

/// <summary>
/// Creates the speakers' membership Secret when it is missing, with a fresh random key, as MetalLB's controller
/// creates its memberlist secret. An existing Secret is never changed: rotating the key is the operator's act (every
/// speaker follows the Secret). Every replica may run this; a create that loses the race finds the winner's Secret.
/// </summary>
public static partial class MemberlistSecretWriter
{
    public static async Task EnsureAsync(IKubernetesClient client, string ns, ILogger logger, TimeProvider time, CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                await client.GetAsync(CoreResources.Secrets, ns, MemberlistSecret.Name, ct).ConfigureAwait(false);
                return;
            }
            catch (NotFoundException)
            {
                try
                {
                    await client.CreateAsync(CoreResources.Secrets, new V1Secret
                    {
                        Metadata = new V1ObjectMeta { Name = MemberlistSecret.Name, NamespaceProperty = ns },
                        Type = "Opaque",
                        Data = new Dictionary<string, byte[]> { [MemberlistSecret.KeyField] = RandomNumberGenerator.GetBytes(MemberlistSecret.KeyBytes) },
                    }, ct).ConfigureAwait(false);
                    LogCreated(logger, ns, MemberlistSecret.Name);
                    return;
                }
                catch (AlreadyExistsException)
                {
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    LogRetry(logger, ns, MemberlistSecret.Name, delay, e.Message);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogRetry(logger, ns, MemberlistSecret.Name, delay, e.Message);
            }
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Created the speakers' membership Secret {Namespace}/{Name}")]
    private static partial void LogCreated(ILogger logger, string @namespace, string name);

    [LoggerMessage(2, LogLevel.Warning, "Could not ensure the membership Secret {Namespace}/{Name}, retrying in {Delay}: {Reason}")]
    private static partial void LogRetry(ILogger logger, string @namespace, string name, TimeSpan delay, string reason);
}
