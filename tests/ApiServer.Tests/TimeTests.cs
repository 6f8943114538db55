using System.Text.Json.Nodes;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// metav1.Time comes back in UTC with whole seconds, metav1.MicroTime in UTC with six digits, whatever the client sent.
public sealed class TimeTests(ApiServerFixture api) : IClassFixture<ApiServerFixture>
{
    public static TheoryData<string, string?> NodeConditionTimes => new()
    {
        { "2024-05-01T10:20:30Z", "2024-05-01T10:20:30Z" },
        { "2024-05-01T10:20:30.999999Z", "2024-05-01T10:20:30Z" },
        { "2024-05-01T10:20:30.5+01:30", "2024-05-01T08:50:30Z" },
        { "2024-05-01T10:20:30,25-02:00", "2024-05-01T12:20:30Z" },
        { "2024-05-01T23:59:59.123456789-23:59", "2024-05-02T23:58:59Z" },
        { "0001-01-01T00:00:00Z", null },
    };

    [Theory]
    [MemberData(nameof(NodeConditionTimes))]
    public async Task CreateNode_ConditionTime_IsUtcWholeSeconds(string sent, string? expected)
    {
        var http = new KubeHttp(api.Http);
        var name = "n-" + Guid.NewGuid().ToString("N")[..8];
        var node = J($$$$"""{"apiVersion":"v1","kind":"Node","metadata":{"name":"{{{{name}}}}"},"status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"{{{{sent}}}}"}]}}""");
        var created = await http.CreateAsync("/api/v1/nodes", node);
        Assert.Equal(expected, created["status"]!["conditions"]![0]!["lastHeartbeatTime"]?.GetValue<string>());
        Assert.Equal(expected, (await http.GetAsync("/api/v1/nodes/" + name)).Body["status"]!["conditions"]![0]!["lastHeartbeatTime"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2024-02-30T10:00:00Z")]
    [InlineData("2024-05-01 10:20:30Z")]
    [InlineData("2024-05-01T10:20:30z")]
    [InlineData("2024-05-01T24:00:00Z")]
    public async Task CreateNode_UnparsableTime_IsBadRequestFromTheDecoder(string sent)
    {
        var http = new KubeHttp(api.Http);
        var node = J($$$$"""{"apiVersion":"v1","kind":"Node","metadata":{"name":"bad"},"spec":{"taints":[{"key":"k","effect":"NoSchedule","timeAdded":"{{{{sent}}}}"}]}}""");
        var r = await http.PostAsync("/api/v1/nodes", node);
        Assert.Equal(400, r.Code);
        Assert.StartsWith($"Node in version \"v1\" cannot be handled as a Node: parsing time \"{sent}\" as \"2006-01-02T15:04:05Z07:00\"",
            r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateLease_MicroTime_KeepsMicrosecondsInUtc()
    {
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases",
            J("""{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"micro"},"spec":{"holderIdentity":"a","renewTime":"2024-05-01T10:20:30.123456+02:00","acquireTime":"2024-05-01T10:20:30.000001Z"}}"""));
        Assert.Equal("2024-05-01T08:20:30.123456Z", created["spec"]!["renewTime"]!.GetValue<string>());
        Assert.Equal("2024-05-01T10:20:30.000001Z", created["spec"]!["acquireTime"]!.GetValue<string>());
    }

    // MicroTime is parsed with the layout "2006-01-02T15:04:05.000000Z07:00": exactly six fractional digits.
    [Theory]
    [InlineData("2024-05-01T10:20:30Z", "cannot parse \"Z\" as \".000000\"")]
    [InlineData("2024-05-01T10:20:30.123Z", "")]
    [InlineData("2024-05-01T10:20:30.123456789Z", "")]
    public async Task CreateLease_MicroTimeWithoutSixDigits_IsBadRequest(string sent, string detail)
    {
        var http = new KubeHttp(api.Http);
        var r = await http.PostAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases",
            J($$$$"""{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"bad"},"spec":{"renewTime":"{{{{sent}}}}"}}"""));
        Assert.Equal(400, r.Code);
        var message = r.Body["message"]!.GetValue<string>();
        Assert.StartsWith($"Lease in version \"v1\" cannot be handled as a Lease: parsing time \"{sent}\" as \"2006-01-02T15:04:05.000000Z07:00\"", message, StringComparison.Ordinal);
        Assert.Contains(detail, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateStatus_ServiceCondition_IsTruncatedNotRounded()
    {
        var http = new KubeHttp(api.Http);
        var name = "s-" + Guid.NewGuid().ToString("N")[..8];
        await http.CreateAsync("/api/v1/namespaces/default/services", Service(name, type: "LoadBalancer"));
        var r = await http.PatchAsync($"/api/v1/namespaces/default/services/{name}/status",
            J("""{"status":{"conditions":[{"type":"Allocated","status":"True","reason":"Done","message":"","lastTransitionTime":"2024-05-01T10:20:30.999Z"}]}}"""));
        Assert.Equal(200, r.Code);
        Assert.Equal("2024-05-01T10:20:30Z", r.Body["status"]!["conditions"]![0]!["lastTransitionTime"]!.GetValue<string>());
    }

    // Custom resources are unstructured: a date-time string is a string.
    [Fact]
    public async Task CreateCustomResource_DateTimeString_IsKeptAsSent()
    {
        var http = new KubeHttp(api.Http);
        var crd = CrdFixtures.WidgetCrd();
        crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["since"] = J("""{"type":"string","format":"date-time"}""");
        var made = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        Assert.True(made.Code is 201 or 409);
        var name = "w-" + Guid.NewGuid().ToString("N")[..8];
        var created = await http.CreateAsync(CrdFixtures.WidgetsPath,
            J($$$$"""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"{{{{name}}}}"},"spec":{"since":"2024-05-01T10:20:30.987654321+02:00"}}"""));
        Assert.Equal("2024-05-01T10:20:30.987654321+02:00", created["spec"]!["since"]!.GetValue<string>());
    }

    // KubernetesClient writes every DateTime as RFC 3339 with microseconds; the server answers with what Go would.
    [Fact]
    public async Task OfficialClient_ConditionAndLeaseTimes_ComeBackAsKubeApiserverWritesThem()
    {
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.BaseAddress.ToString() });
        var sent = new DateTime(2024, 5, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234567);
        var name = "n-" + Guid.NewGuid().ToString("N")[..8];
        var node = await client.CoreV1.CreateNodeAsync(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name },
            Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", LastHeartbeatTime = sent }] },
        });
        Assert.Equal(new DateTime(2024, 5, 1, 10, 20, 30, DateTimeKind.Utc), node.Status.Conditions[0].LastHeartbeatTime);

        var lease = await client.CoordinationV1.CreateNamespacedLeaseAsync(
            new V1Lease { Metadata = new V1ObjectMeta { Name = name }, Spec = new V1LeaseSpec { HolderIdentity = "me", RenewTime = sent } }, "default");
        Assert.Equal(new DateTime(2024, 5, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234560), lease.Spec.RenewTime);
    }
}
