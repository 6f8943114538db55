using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BareLb.Kubernetes.Tests.Support;

/// <summary>Key encodings a kubeconfig may carry: PKCS#1, SEC 1 and PKCS#8.</summary>
public enum KeyEncoding { RsaPkcs1, RsaPkcs8, EcSec1, EcPkcs8 }

/// <summary>A throwaway CA other than the API server's, and the certificates it signs: what a client must refuse, or a server must.</summary>
internal sealed class TestPki : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestPki(string name = "test-ca")
    {
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public X509Certificate2 Ca { get; }

    public string CaPem => Ca.ExportCertificatePem();

    /// <summary>A client certificate and its key in the requested PEM encoding.</summary>
    public (X509Certificate2 Certificate, string CertificatePem, string KeyPem) IssueClient(string commonName, KeyEncoding encoding)
    {
        AsymmetricAlgorithm key = encoding is KeyEncoding.RsaPkcs1 or KeyEncoding.RsaPkcs8
            ? RSA.Create(2048)
            : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using (key)
        {
            var request = key is RSA rsa
                ? new CertificateRequest($"CN={commonName}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                : new CertificateRequest($"CN={commonName}", (ECDsa)key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            var serial = RandomNumberGenerator.GetBytes(8);
            using var certificate = request.Create(Ca.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
                DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
            var keyPem = encoding switch
            {
                KeyEncoding.RsaPkcs1 => ((RSA)key).ExportRSAPrivateKeyPem(),
                KeyEncoding.EcSec1 => ((ECDsa)key).ExportECPrivateKeyPem(),
                _ => key.ExportPkcs8PrivateKeyPem(),
            };
            var pem = certificate.ExportCertificatePem();
            return (X509CertificateLoader.LoadCertificate(certificate.RawData), pem, keyPem);
        }
    }

    /// <summary>A TLS server certificate (with its key) valid only for <paramref name="dnsNames"/>.</summary>
    public X509Certificate2 IssueServer(params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            san.AddDnsName(name);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(Ca.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so that SslStream can use the key.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The same key re-encoded, to feed the server's issued keys through every PEM label.</summary>
    public static string Reencode(string keyPem, KeyEncoding encoding)
    {
        if (encoding is KeyEncoding.RsaPkcs1 or KeyEncoding.RsaPkcs8)
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(keyPem);
            return encoding == KeyEncoding.RsaPkcs1 ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem();
        }
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(keyPem);
        return encoding == KeyEncoding.EcSec1 ? ecdsa.ExportECPrivateKeyPem() : ecdsa.ExportPkcs8PrivateKeyPem();
    }

    public static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        Ca.Dispose();
        _caKey.Dispose();
    }
}
