using System.Text.RegularExpressions;

namespace BareLb.Api.Config;

// Kubernetes' naming rules (apimachinery validation) and Linux's for interface names. Each check returns the
// reason a value is wrong, or null.
internal static partial class KubernetesNames
{
    public static string? CheckDnsLabel(string value)
    {
        if (value.Length == 0)
        {
            return "must not be empty";
        }

        if (value.Length > 63)
        {
            return $"\"{value}\" is longer than 63 characters";
        }

        return DnsLabel().IsMatch(value)
            ? null
            : $"\"{value}\" is not a valid name: lower-case letters, digits and '-' only, starting and ending with a letter or digit";
    }

    public static string? CheckDnsSubdomain(string value)
    {
        if (value.Length == 0)
        {
            return "must not be empty";
        }

        if (value.Length > 253)
        {
            return $"\"{value}\" is longer than 253 characters";
        }

        return DnsSubdomain().IsMatch(value)
            ? null
            : $"\"{value}\" is not a valid object name: lower-case letters, digits, '-' and '.' only, each dot-separated part starting and ending with a letter or digit";
    }

    // "prefix/name" or "name"; the prefix is a DNS subdomain, the name at most 63 characters.
    public static string? CheckLabelKey(string key)
    {
        if (key.Length == 0)
        {
            return "label key must not be empty";
        }

        var slash = key.IndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length == 0 || prefix.Length > 253 || !DnsSubdomain().IsMatch(prefix))
            {
                return $"label key \"{key}\" has an invalid prefix \"{prefix}\": it must be a DNS subdomain such as example.com";
            }
        }

        if (name.Length == 0 || name.Length > 63 || !LabelName().IsMatch(name))
        {
            return $"label key \"{key}\" is invalid: the name part must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
        }

        return null;
    }

    public static string? CheckLabelValue(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        return value.Length <= 63 && LabelName().IsMatch(value)
            ? null
            : $"label value \"{value}\" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
    }

    // Linux dev_valid_name: 1 to IFNAMSIZ-1 (15) bytes, not "." or "..", no '/', ':' or whitespace.
    public static string? CheckInterfaceName(string name)
    {
        if (name.Length == 0)
        {
            return "interface name must not be empty";
        }

        if (System.Text.Encoding.UTF8.GetByteCount(name) > 15)
        {
            return $"interface name \"{name}\" is longer than 15 bytes (Linux IFNAMSIZ)";
        }

        if (name is "." or "..")
        {
            return $"\"{name}\" is not a valid interface name";
        }

        foreach (var c in name)
        {
            if (c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return $"interface name \"{name}\" contains '{(char.IsWhiteSpace(c) || char.IsControl(c) ? "whitespace" : c)}', which Linux does not allow";
            }
        }

        return null;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex LabelName();
}
