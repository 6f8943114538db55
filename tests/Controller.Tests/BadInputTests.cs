using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>
/// Malformed pools are refused with the field named, either by the CRD schema (422 from the API server, as on a
/// real cluster) or by the controller's own validation (condition Valid=False and an event); and a Service already
/// running from another pool keeps its address throughout.
/// </summary>
public sealed class BadInputTests
{
    public static TheoryData<string, string[], string, string> BadPools => new()
    {
        { "malformed CIDR", ["198.51.100.300/24"], "spec.addresses[0]", "" },
        { "host bits set", ["198.51.100.1/24"], "spec.addresses[0]", "host bits" },
        { "prefix too long", ["198.51.100.0/33"], "spec.addresses[0]", "" },
        { "reversed range", ["203.0.113.20-203.0.113.10"], "spec.addresses[0]", "reversed" },
        { "mixed families", ["203.0.113.1-2001:db8::1"], "spec.addresses[0]", "mixes IPv4 and IPv6" },
        { "second entry bad", ["203.0.113.0/28", "garbage"], "spec.addresses[1]", "" },
        { "overlap inside pool", ["203.0.113.0/28", "203.0.113.8-203.0.113.9"], "spec.addresses", "overlap" },
        { "no addresses", [], "spec.addresses", "" },
    };

    [Theory]
    [MemberData(nameof(BadPools))]
    public async Task Pool_BadAddresses_RejectedNamingFieldAndRunningServiceKeepsAddress(string name, string[] addresses, string field, string reason)
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("good", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        var before = Ingress(await f.WaitForIngressAsync("web"));

        string message;
        try
        {
            await f.CreatePoolAsync("bad", addresses);
            var pool = await f.WaitForPoolConditionAsync("bad", PoolConditions.Valid, "False", contains: field);
            message = pool.Status!.Conditions!.Single(c => c.Type == PoolConditions.Valid).Message!;
            await f.WaitForEventAsync("bad", "InvalidConfiguration", ns: SystemNamespace, contains: field);
        }
        catch (InvalidException e)
        {
            // Refused by the schema: the API's own error names the field.
            Assert.Contains(e.Causes, c => c.Field?.StartsWith(field, StringComparison.Ordinal) == true);
            message = e.Message;
        }

        Assert.Contains(reason, message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, Ingress(await f.GetServiceAsync("web")));
        _ = name; // the case label: it names the row in the test output
    }

    [Fact]
    public async Task Service_ConflictingRequests_AllocationFailedNamesBothFields()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var service = LoadBalancer("both", new() { [Annotations.LoadBalancerIPs] = "198.51.100.3" });
        service.Spec.LoadBalancerIP = "198.51.100.4";

        await f.CreateServiceAsync(service);

        var ev = await f.WaitForEventAsync("both", "AllocationFailed", contains: "spec.loadBalancerIP");
        Assert.Contains("spec.loadBalancerIP: set together with annotation barelb.io/loadBalancerIPs", ev.Message);
        Assert.Empty(Ingress(await f.GetServiceAsync("both")));
    }

    [Fact]
    public async Task Service_AddressHeldByAnother_AddressInUseNamesHolder()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("first", new() { [Annotations.LoadBalancerIPs] = "198.51.100.5" }));
        await f.WaitForIngressAsync("first");

        await f.CreateServiceAsync(LoadBalancer("second", new() { [Annotations.LoadBalancerIPs] = "198.51.100.5" }));

        var ev = await f.WaitForEventAsync("second", "AllocationFailed", contains: "address in use");
        Assert.Contains("address in use", ev.Message);
        Assert.Contains("demo/first", ev.Message);
        Assert.Equal(["198.51.100.5"], Ingress(await f.GetServiceAsync("first")));
    }
}
