using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Certificates and private keys from PEM text. Failures come back as a reason without location, which the
/// caller wraps with the file and field it was reading.
/// </summary>
internal static class PemCredentials
{
    public static X509Certificate2Collection ReadCertificates(string pem, out string? error)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            error = $"not a valid PEM certificate: {e.Message}";
            return collection;
        }
        error = collection.Count == 0 ? "no PEM \"CERTIFICATE\" block found" : null;
        return collection;
    }

    /// <summary>
    /// Pairs the first certificate of <paramref name="certificates"/> with the key. The key may be PKCS#1
    /// ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
    /// </summary>
    public static X509Certificate2? Pair(X509Certificate2 leaf, string keyPem, out string? error)
    {
        var label = FindKeyLabel(keyPem);
        switch (label)
        {
            case null:
                error = "no PEM private key block found (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)";
                return null;
            case "ENCRYPTED PRIVATE KEY":
                error = "encrypted private keys are not supported";
                return null;
        }

        try
        {
            X509Certificate2 paired;
            if (leaf.GetRSAPublicKey() is { } rsaPublic)
            {
                rsaPublic.Dispose();
                using var rsa = RSA.Create();
                rsa.ImportFromPem(keyPem);
                paired = leaf.CopyWithPrivateKey(rsa);
            }
            else if (leaf.GetECDsaPublicKey() is { } ecPublic)
            {
                ecPublic.Dispose();
                using var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(keyPem);
                paired = leaf.CopyWithPrivateKey(ecdsa);
            }
            else
            {
                error = $"the certificate's key algorithm ({leaf.PublicKey.Oid.FriendlyName ?? leaf.PublicKey.Oid.Value}) is not supported; use RSA or ECDSA";
                return null;
            }

            error = null;
            // SslStream on Windows cannot use an ephemeral key; a PKCS#12 round trip gives it a persisted one.
            if (OperatingSystem.IsWindows())
            {
                using (paired)
                {
                    return X509CertificateLoader.LoadPkcs12(paired.Export(X509ContentType.Pkcs12), null);
                }
            }
            return paired;
        }
        catch (ArgumentException e) when (e.ParamName is null || e.ParamName == "input")
        {
            error = $"the \"{label}\" block is not a key of the certificate's type ({KeyType(leaf)}): {e.Message}";
            return null;
        }
        catch (ArgumentException)
        {
            error = "the private key does not match the certificate's public key";
            return null;
        }
        catch (CryptographicException e)
        {
            error = $"the \"{label}\" block cannot be read as a {KeyType(leaf)} key: {e.Message}";
            return null;
        }
    }

    private static string KeyType(X509Certificate2 cert) =>
        cert.PublicKey.Oid.Value switch
        {
            "1.2.840.113549.1.1.1" => "RSA",
            "1.2.840.10045.2.1" => "ECDSA",
            var oid => oid ?? "unknown",
        };

    private static string? FindKeyLabel(string pem)
    {
        var text = pem.AsSpan();
        while (PemEncoding.TryFind(text, out var fields))
        {
            var label = text[fields.Label].ToString();
            if (label.EndsWith("PRIVATE KEY", StringComparison.Ordinal))
            {
                return label;
            }
            text = text[fields.Location.End.Value..];
        }
        return null;
    }
}
