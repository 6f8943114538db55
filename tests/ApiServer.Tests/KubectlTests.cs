using System.Diagnostics;
using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// kubectl 1.32 against the emulator over HTTPS with a token (kubeconfig from WriteKubeconfig).
public sealed class KubectlTests
{
    private const string Token = "kubectl-token";

    private const string ServiceYaml = """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          labels: {app: web}
        spec:
          type: LoadBalancer
          selector: {app: web}
          ports:
          - name: http
            port: 80
            targetPort: 8080
        """;

    private const string CrdYaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: ipaddresspools.test.barelb.io
        spec:
          group: test.barelb.io
          scope: Cluster
          names: {kind: IPAddressPool, plural: ipaddresspools, singular: ipaddresspool, shortNames: [tpool], listKind: IPAddressPoolList}
          versions:
          - name: v1alpha1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {name: Addresses, type: string, jsonPath: .spec.addresses}
            - {name: Assigned, type: integer, jsonPath: .status.assigned}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [addresses]
                    properties:
                      addresses: {type: array, items: {type: string}}
                      autoAssign: {type: boolean, default: true}
                  status:
                    type: object
                    properties:
                      assigned: {type: integer}
        """;

    private const string PoolYaml = """
        apiVersion: test.barelb.io/v1alpha1
        kind: IPAddressPool
        metadata: {name: pool1}
        spec:
          addresses: ["203.0.113.0/28"]
        """;

    private static Task<ApiServerFixture> StartAsync() =>
        ApiServerFixture.StartAsync(o => { o.UseHttps = true; o.RequiredBearerToken = Token; });

    private static KubeHttp Authorized(ApiServerFixture api)
    {
        api.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return new KubeHttp(api.Http);
    }

    [Fact]
    public async Task CreateAndGet_Service_TableShowsExternalIp()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        var file = kubectl.WriteFile("svc.yaml", ServiceYaml);
        Assert.Contains("service/web created", await kubectl.OkAsync("create", "-f", file), StringComparison.Ordinal);

        var table = Kubectl.Lines(await kubectl.OkAsync("get", "svc"));
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], Kubectl.Cells(table[0]));
        var row = Kubectl.Cells(table[1]);
        Assert.Equal("web", row[0]);
        Assert.Equal("LoadBalancer", row[1]);
        Assert.StartsWith("100.64.", row[2], StringComparison.Ordinal);
        Assert.Equal("<pending>", row[3]);
        Assert.Matches(@"^80:3\d{4}/TCP$", row[4]);

        var http = Authorized(api);
        var r = await http.PatchAsync("/api/v1/namespaces/default/services/web/status", J("""{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]}}}"""));
        Assert.Equal(200, r.Code);
        var after = Kubectl.Cells(Kubectl.Lines(await kubectl.OkAsync("get", "svc", "web"))[1]);
        Assert.Equal("203.0.113.7", after[3]);

        var wide = Kubectl.Lines(await kubectl.OkAsync("get", "svc", "-o", "wide"));
        Assert.Equal("SELECTOR", Kubectl.Cells(wide[0])[^1]);
        Assert.Equal("app=web", Kubectl.Cells(wide[1])[^1]);
    }

    [Fact]
    public async Task GetEvents_EventWrittenThroughEventsApi_ShowsKubectlColumns()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        var http = Authorized(api);
        await http.CreateAsync("/apis/events.k8s.io/v1/namespaces/default/events", J("""
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"web.1"},"eventTime":"2024-05-01T10:20:30.000000Z",
             "reportingController":"barelb.io/controller","reportingInstance":"n1","action":"Allocate","reason":"IPAllocated","type":"Normal",
             "note":"Assigned 203.0.113.10","regarding":{"apiVersion":"v1","kind":"Service","namespace":"default","name":"web"}}
            """));
        var lines = Kubectl.Lines(await kubectl.OkAsync("get", "events"));
        Assert.Equal(["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], Kubectl.Cells(lines[0]));
        var row = Kubectl.Cells(lines[1]);
        Assert.Equal(["Normal", "IPAllocated", "service/web", "Assigned", "203.0.113.10"], row[1..]);
        var v1 = Kubectl.Lines(await kubectl.OkAsync("get", "events.v1.events.k8s.io", "-o", "name"));
        Assert.Equal(["event.events.k8s.io/web.1"], v1);
    }

    [Fact]
    public async Task Apply_Twice_SecondChangeLandsAndThirdIsUnchanged()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        var file = kubectl.WriteFile("svc.yaml", ServiceYaml);
        Assert.Contains("service/web created", await kubectl.OkAsync("apply", "-f", file), StringComparison.Ordinal);
        var first = JsonNode.Parse(await kubectl.OkAsync("get", "svc", "web", "-o", "json"))!;
        var nodePort = first["spec"]!["ports"]![0]!["nodePort"]!.GetValue<int>();

        kubectl.WriteFile("svc.yaml", ServiceYaml.Replace("port: 80", "port: 8443", StringComparison.Ordinal).Replace("{app: web}\nspec", "{app: web, tier: edge}\nspec", StringComparison.Ordinal));
        Assert.Contains("service/web configured", await kubectl.OkAsync("apply", "-f", file), StringComparison.Ordinal);
        var second = JsonNode.Parse(await kubectl.OkAsync("get", "svc", "web", "-o", "json"))!;
        var ports = second["spec"]!["ports"]!.AsArray();
        Assert.Single(ports);
        Assert.Equal(8443, ports[0]!["port"]!.GetValue<int>());
        Assert.Equal(nodePort, ports[0]!["nodePort"]!.GetValue<int>());
        Assert.Equal("edge", second["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal(first["spec"]!["clusterIP"]!.GetValue<string>(), second["spec"]!["clusterIP"]!.GetValue<string>());

        Assert.Contains("service/web unchanged", await kubectl.OkAsync("apply", "-f", file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyCrdThenCustomResource_GetShowsPrinterColumnsAndChangesLand()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        var crd = kubectl.WriteFile("crd.yaml", CrdYaml);
        var pool = kubectl.WriteFile("pool.yaml", PoolYaml);
        Assert.Contains("created", await kubectl.OkAsync("apply", "-f", crd), StringComparison.Ordinal);
        Assert.Contains("ipaddresspool.test.barelb.io/pool1 created", await kubectl.OkAsync("apply", "-f", pool), StringComparison.Ordinal);

        var http = Authorized(api);
        await http.PatchAsync("/apis/test.barelb.io/v1alpha1/ipaddresspools/pool1/status", J("""{"status":{"assigned":3}}"""));
        var table = Kubectl.Lines(await kubectl.OkAsync("get", "ipaddresspools"));
        Assert.Equal(["NAME", "ADDRESSES", "ASSIGNED", "AGE"], Kubectl.Cells(table[0]));
        var row = Kubectl.Cells(table[1]);
        Assert.Equal(["pool1", "[\"203.0.113.0/28\"]", "3"], row[..3]);

        kubectl.WriteFile("pool.yaml", PoolYaml.Replace("/28\"]", "/28\", \"198.51.100.0/29\"]", StringComparison.Ordinal));
        Assert.Contains("configured", await kubectl.OkAsync("apply", "-f", pool), StringComparison.Ordinal);
        var json = JsonNode.Parse(await kubectl.OkAsync("get", "tpool", "pool1", "-o", "json"))!;
        Assert.Equal(["203.0.113.0/28", "198.51.100.0/29"], json["spec"]!["addresses"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.True(json["spec"]!["autoAssign"]!.GetValue<bool>());
        Assert.Equal(2, json["metadata"]!["generation"]!.GetValue<int>());

        // Re-applying the CRD with a new printer column is a change too.
        kubectl.WriteFile("crd.yaml", CrdYaml.Replace("    - {name: Age,", "    - {name: Auto, type: boolean, jsonPath: .spec.autoAssign}\n    - {name: Age,", StringComparison.Ordinal));
        Assert.Contains("configured", await kubectl.OkAsync("apply", "-f", crd), StringComparison.Ordinal);
        Assert.Equal(["NAME", "ADDRESSES", "ASSIGNED", "AUTO", "AGE"], Kubectl.Cells(Kubectl.Lines(await kubectl.OkAsync("get", "ipaddresspools"))[0]));
    }

    [Fact]
    public async Task Apply_UnknownField_IsRejectedByStrictServerSideValidation()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        await kubectl.OkAsync("apply", "-f", kubectl.WriteFile("crd.yaml", CrdYaml));
        var bad = kubectl.WriteFile("bad.yaml", PoolYaml + "\n  bogus: 1\n");
        var (code, _, stderr) = await kubectl.RunAsync("apply", "-f", bad);
        Assert.NotEqual(0, code);
        Assert.Contains("unknown field \"spec.bogus\"", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_FromFile_RemovesObject()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        var file = kubectl.WriteFile("svc.yaml", ServiceYaml);
        await kubectl.OkAsync("create", "-f", file);
        Assert.Contains("service \"web\" deleted", await kubectl.OkAsync("delete", "-f", file), StringComparison.Ordinal);
        var (code, _, stderr) = await kubectl.RunAsync("get", "svc", "web");
        Assert.NotEqual(0, code);
        Assert.Contains("NotFound", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetJson_ReturnsTheStoredObject()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        await kubectl.OkAsync("create", "-f", kubectl.WriteFile("svc.yaml", ServiceYaml));
        var viaKubectl = JsonNode.Parse(await kubectl.OkAsync("get", "svc", "web", "-o", "json"))!;
        var viaHttp = (await Authorized(api).GetAsync("/api/v1/namespaces/default/services/web")).Body;
        Assert.True(JsonNode.DeepEquals(viaHttp, viaKubectl), viaKubectl.ToJsonString());
        var list = JsonNode.Parse(await kubectl.OkAsync("get", "ns", "-o", "json"))!;
        Assert.Equal(4, list["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task GetWatch_PrintsNewObjects()
    {
        await using var api = await StartAsync();
        using var kubectl = new Kubectl(api.Server, Token);
        using var process = Process.Start(kubectl.StartInfo("get", "svc", "-w"))!;
        try
        {
            var (_, waitFor) = ProcessOutput.Capture(process);
            await Task.Delay(300);
            await Authorized(api).CreateAsync("/api/v1/namespaces/default/services", Service("watched"));
            Assert.True(await waitFor("watched", TimeSpan.FromSeconds(10)), "kubectl get -w did not print the new Service");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
