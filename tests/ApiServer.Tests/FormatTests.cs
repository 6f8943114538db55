using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// CRD `format` checks against the values kube-apiserver 1.32 accepts and refuses (kube-openapi strfmt + govalidator).
public sealed class FormatTests(ApiServerFixture api) : IClassFixture<ApiServerFixture>
{
    private const string Path = "/apis/example.com/v1/formatted";

    private static readonly string[] Formats =
    [
        "ipv4", "ipv6", "cidr", "date-time", "date", "uuid", "uuid4", "byte", "hostname", "mac", "email", "uri", "duration",
        "hexcolor", "rgbcolor", "isbn10", "isbn13", "creditcard", "ssn", "bsonobjectid", "password", "quantity", "k8s-short-name",
    ];

    public static TheoryData<string, string, bool> Cases => new()
    {
        { "ipv4", "198.51.100.7", true },
        { "ipv4", "0198.051.100.7", true },
        { "ipv4", "::ffff:198.51.100.7", true },
        { "ipv4", "198.51.100", false },
        { "ipv4", "256.51.100.7", false },
        { "ipv6", "2001:db8::1", true },
        { "ipv6", "::ffff:198.51.100.7", true },
        { "ipv6", "198.51.100.7", false },
        { "ipv6", "fe80::1%eth0", false },
        { "ipv6", "12345::", false },
        { "cidr", "198.51.100.0/24", true },
        { "cidr", "0198.51.100.0/024", true },
        { "cidr", "198.51.100.0/33", false },
        { "cidr", "2001:db8::/129", false },
        { "cidr", "198.51.100.0", false },
        { "date-time", "2024-02-29T10:11:12Z", true },
        { "date-time", "2024-01-01t10:00:00.5+02:00", true },
        { "date-time", "2024-02-30T10:11:12Z", false },
        { "date-time", "2024-01-01T24:00:00Z", false },
        { "date-time", "2024-01-01", false },
        { "date", "2024-02-29", true },
        { "date", "2023-02-29", false },
        { "date", "2024-1-01", false },
        { "uuid", "123e4567-e89b-12d3-a456-426614174000", true },
        { "uuid", "123E4567E89B12D3A456426614174000", true },
        { "uuid", "123e4567", false },
        { "uuid4", "123e4567-e89b-42d3-a456-426614174000", true },
        { "uuid4", "123e4567-e89b-12d3-a456-426614174000", false },
        { "byte", "aGVsbG8=", true },
        { "byte", "aGVsbG8", false },
        { "byte", "", false },
        { "hostname", "example.com", true },
        { "hostname", "localhost", true },
        { "hostname", "Example.COM", true },
        { "hostname", "my_host", false },
        { "hostname", "host.123", false },
        { "mac", "01:23:45:67:89:ab", true },
        { "mac", "0123.4567.89ab", true },
        { "mac", "01:23:45:67:89", false },
        { "mac", "01-23:45-67-89-ab", false },
        { "email", "a@example.com", true },
        { "email", "Name <a@example.com>", true },
        { "email", "not-an-email", false },
        { "uri", "https://example.com/x?y", true },
        { "uri", "/relative/path", true },
        { "uri", "mailto:a@example.com", true },
        { "uri", "relative", false },
        { "uri", "http://host:port/", false },
        { "duration", "1h30m", true },
        { "duration", "1.5h", true },
        { "duration", "5 seconds", true },
        { "duration", "forever", false },
        { "duration", "", false },
        { "hexcolor", "#fff", true },
        { "hexcolor", "ffffff", true },
        { "hexcolor", "#ffff", false },
        { "rgbcolor", "rgb(255, 0, 10)", true },
        { "rgbcolor", "rgb(256,0,0)", false },
        { "isbn10", "0-306-40615-2", true },
        { "isbn10", "0306406153", false },
        { "isbn13", "978-0-306-40615-7", true },
        { "isbn13", "9780306406158", false },
        { "creditcard", "4111 1111 1111 1111", true },
        { "creditcard", "4111111111111112", false },
        { "ssn", "123-45-6789", true },
        { "ssn", "123456789", false },
        { "bsonobjectid", "507f1f77bcf86cd799439011", true },
        { "bsonobjectid", "507f1f77bcf86cd79943901", false },
        { "password", "anything at all", true },
        // Not in the registry apiextensions uses at 1.32: informational only.
        { "quantity", "not a quantity", true },
        { "k8s-short-name", "Not_A_Name", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Create_StringFormat_AcceptsOrRefusesLikeKubeApiserver(string format, string value, bool valid)
    {
        var http = await WithCrdAsync();
        var name = "f-" + Guid.NewGuid().ToString("N")[..10];
        var spec = new JsonObject { [Key(format)] = value };
        var r = await http.PostAsync(Path, Body(name, spec));
        if (valid)
        {
            Assert.True(r.Code == 201, r.Body.ToJsonString());
            return;
        }

        Assert.Equal(422, r.Code);
        var cause = Assert.Single(r.Body["details"]!["causes"]!.AsArray());
        Assert.Equal("spec." + Key(format), cause!["field"]!.GetValue<string>());
        Assert.Equal($"Invalid value: {JsonTree(value)}: spec.{Key(format)} in body must be of type {format}: {JsonTree(value)}", cause["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("int32", 3000000000L)]
    [InlineData("int64", -9000000000000000000L)]
    [InlineData("int32", -2147483649L)]
    public async Task Create_IntegerFormat_IsInformationalOnly(string format, long value)
    {
        var http = await WithCrdAsync();
        var r = await http.PostAsync(Path, Body("i-" + Guid.NewGuid().ToString("N")[..10], new JsonObject { [format] = value }));
        Assert.True(r.Code == 201, r.Body.ToJsonString());
        Assert.Equal(value, r.Body["spec"]![format]!.GetValue<long>());
    }

    private static string Key(string format) => format.Replace("-", "", StringComparison.Ordinal);

    private static string JsonTree(string value) => JsonValue.Create(value).ToJsonString();

    private static JsonObject Body(string name, JsonObject spec) =>
        new() { ["apiVersion"] = "example.com/v1", ["kind"] = "Formatted", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };

    private async Task<KubeHttp> WithCrdAsync()
    {
        var http = new KubeHttp(api.Http);
        if ((await http.GetAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/formatted.example.com")).Code == 404)
        {
            var properties = new JsonObject
            {
                ["int32"] = J("""{"type":"integer","format":"int32"}"""),
                ["int64"] = J("""{"type":"integer","format":"int64"}"""),
            };
            foreach (var f in Formats)
            {
                properties[Key(f)] = new JsonObject { ["type"] = "string", ["format"] = f };
            }

            var crd = J("""
                {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"formatted.example.com"},
                 "spec":{"group":"example.com","scope":"Cluster","names":{"kind":"Formatted","plural":"formatted"},
                  "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
                   "properties":{"spec":{"type":"object"}}}}}]}}
                """);
            crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"] = properties;
            var created = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
            Assert.True(created.Code is 201 or 409, created.Body.ToJsonString());
        }

        return http;
    }
}
