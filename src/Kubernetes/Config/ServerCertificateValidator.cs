using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Checks the API server's certificate the way client-go does with a configured CA: the chain must end at one of
/// the configured certificates (the system store is not consulted), the certificate must be valid for server
/// authentication, and a subject alternative name must match the expected host (the common name is ignored, as in
/// Go since 1.15). Without a configured CA the system store decides the chain.
/// </summary>
internal sealed class ServerCertificateValidator
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly X509Certificate2Collection? _trustAnchors;
    private readonly string _expectedName;

    public ServerCertificateValidator(X509Certificate2Collection? trustAnchors, string expectedName)
    {
        _trustAnchors = trustAnchors;
        _expectedName = expectedName;
    }

    /// <summary>Why the last rejected certificate was rejected; handshake failures only say "rejected by callback".</summary>
    public string? LastFailure { get; private set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        if (certificate is not X509Certificate2 leaf)
        {
            LastFailure = "the server sent no certificate";
            return false;
        }

        if (_trustAnchors is null)
        {
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                LastFailure = $"server certificate \"{leaf.Subject}\" is not trusted by the system store: " +
                    Describe(presentedChain);
                return false;
            }
        }
        else
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_trustAnchors);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
            if (presentedChain is not null)
            {
                // Intermediates the server sent along with its certificate.
                foreach (var element in presentedChain.ChainElements)
                {
                    if (!element.Certificate.Equals(leaf))
                    {
                        chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                    }
                }
                chain.ChainPolicy.ExtraStore.AddRange(presentedChain.ChainPolicy.ExtraStore);
            }
            if (!chain.Build(leaf))
            {
                LastFailure = $"server certificate \"{leaf.Subject}\" (issuer \"{leaf.Issuer}\") does not chain to the " +
                    $"configured certificate authority ({string.Join(", ", _trustAnchors.Select(c => $"\"{c.Subject}\""))}): " +
                    Describe(chain);
                return false;
            }
        }

        if (!leaf.MatchesHostname(_expectedName, allowWildcards: true, allowCommonName: false))
        {
            LastFailure = $"server certificate \"{leaf.Subject}\" is not valid for \"{_expectedName}\" " +
                $"(subject alternative names: {SubjectAlternativeNames(leaf)})";
            return false;
        }
        LastFailure = null;
        return true;
    }

    private static string Describe(X509Chain? chain)
    {
        if (chain is null || chain.ChainStatus.Length == 0)
        {
            return "no valid chain";
        }
        return string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}"));
    }

    private static string SubjectAlternativeNames(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                var names = san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToArray();
                return names.Length == 0 ? "none" : string.Join(", ", names);
            }
        }
        return "none";
    }
}
