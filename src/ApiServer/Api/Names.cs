using System.Text.RegularExpressions;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Api;

// Object name rules and their exact messages from apimachinery's validation package.
internal static partial class Names
{
    private const string Dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    private const string Dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    private const string Dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    public static bool IsDns1123Subdomain(string s) => s.Length <= 253 && Dns1123Subdomain().IsMatch(s);

    public static bool IsDns1123Label(string s) => s.Length <= 63 && Dns1123Label().IsMatch(s);

    /// <summary>Validates metadata.name (and generateName's prefix, which is validated after the suffix is added).</summary>
    public static IEnumerable<FieldError> Validate(string name, NameRule rule, string field = "metadata.name")
    {
        switch (rule)
        {
            case NameRule.Dns1123Subdomain:
                if (name.Length > 253)
                {
                    yield return FieldError.Invalid(field, name, "must be no more than 253 characters");
                }

                if (!Dns1123Subdomain().IsMatch(name))
                {
                    yield return FieldError.Invalid(field, name, Dns1123SubdomainMessage);
                }

                break;
            case NameRule.Dns1123Label:
                if (name.Length > 63)
                {
                    yield return FieldError.Invalid(field, name, "must be no more than 63 characters");
                }

                if (!Dns1123Label().IsMatch(name))
                {
                    yield return FieldError.Invalid(field, name, Dns1123LabelMessage);
                }

                break;
            case NameRule.Dns1035Label:
                if (name.Length > 63)
                {
                    yield return FieldError.Invalid(field, name, "must be no more than 63 characters");
                }

                if (!Dns1035Label().IsMatch(name))
                {
                    yield return FieldError.Invalid(field, name, Dns1035LabelMessage);
                }

                break;
            default:
                if (name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('%', StringComparison.Ordinal))
                {
                    yield return FieldError.Invalid(field, name, "may not contain '/' or '%' and may not be '.' or '..'");
                }

                break;
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();
}
