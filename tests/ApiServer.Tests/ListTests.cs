using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class ListTests
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";

    private static List<string> Names(ApiResponse r) => r.Body["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task List_LimitAndContinue_PagesInNameOrder()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        foreach (var n in new[] { "e", "a", "d", "c", "b" })
        {
            await http.CreateAsync(Cms, ConfigMap(n));
        }

        var first = await http.GetAsync(Cms + "?limit=2");
        Assert.Equal(["a", "b"], Names(first));
        Assert.Equal(3, first.Body["metadata"]!["remainingItemCount"]!.GetValue<int>());
        var token = first.Body["metadata"]!["continue"]!.GetValue<string>();
        var second = await http.GetAsync(Cms + "?limit=2&continue=" + Uri.EscapeDataString(token));
        Assert.Equal(["c", "d"], Names(second));
        Assert.Equal(first.Rv, second.Rv);
        var third = await http.GetAsync(Cms + "?limit=2&continue=" + Uri.EscapeDataString(second.Body["metadata"]!["continue"]!.GetValue<string>()));
        Assert.Equal(["e"], Names(third));
        Assert.Null(third.Body["metadata"]!["continue"]);
    }

    [Fact]
    public async Task List_ContinueAfterWrites_ServesTheFirstPagesSnapshot()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        foreach (var n in new[] { "a", "b", "c", "d" })
        {
            await http.CreateAsync(Cms, ConfigMap(n));
        }

        var first = await http.GetAsync(Cms + "?limit=2");
        await http.DeleteAsync(Cms + "/c");
        await http.CreateAsync(Cms, ConfigMap("bb"));
        await http.PatchAsync(Cms + "/d", J("""{"data":{"k":"new"}}"""));
        var second = await http.GetAsync(Cms + "?limit=10&continue=" + Uri.EscapeDataString(first.Body["metadata"]!["continue"]!.GetValue<string>()));
        Assert.Equal(["c", "d"], Names(second));
        Assert.Equal("v", second.Body["items"]![1]!["data"]!["k"]!.GetValue<string>());
        Assert.Equal(first.Rv, second.Rv);
    }

    [Fact]
    public async Task List_ContinueOlderThanHistory_ReturnsExpired()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        foreach (var n in new[] { "a", "b", "c" })
        {
            await http.CreateAsync(Cms, ConfigMap(n));
        }

        var first = await http.GetAsync(Cms + "?limit=1");
        await http.CreateAsync(Cms, ConfigMap("d"));
        api.Server.CompactWatchHistory();
        var r = await http.GetAsync(Cms + "?limit=1&continue=" + Uri.EscapeDataString(first.Body["metadata"]!["continue"]!.GetValue<string>()));
        Assert.Equal(410, r.Code);
        Assert.Equal("Expired", r.Reason);
    }

    [Fact]
    public async Task List_GarbageContinue_ReturnsBadRequest()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync(Cms + "?continue=notatoken");
        Assert.Equal(400, r.Code);
    }

    [Fact]
    public async Task List_AllNamespaces_IncludesEveryNamespace()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync("/api/v1/namespaces/kube-system/configmaps", ConfigMap("b"));
        var r = await http.GetAsync("/api/v1/configmaps");
        Assert.Equal(["a", "b"], Names(r));
    }

    public static TheoryData<string, string[]> LabelSelectors => new()
    {
        { "app=web", ["web1", "web2"] },
        { "app==web", ["web1", "web2"] },
        { "app!=web", ["db", "plain"] },
        { "app in (web,db)", ["db", "web1", "web2"] },
        { "app notin (web)", ["db", "plain"] },
        { "tier", ["db", "web1"] },
        { "!tier", ["plain", "web2"] },
        { "app=web,tier=front", ["web1"] },
        { "app=web,!tier", ["web2"] },
        { "app in (web), tier notin (back)", ["web1", "web2"] },
        { "tier notin (front)", ["db", "plain", "web2"] },
        { "example.com/role=x", ["plain"] },
        { "", ["db", "plain", "web1", "web2"] },
    };

    [Theory]
    [MemberData(nameof(LabelSelectors))]
    public async Task List_LabelSelector_FiltersLikeTheRealServer(string selector, string[] expected)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("web1", new() { ["app"] = "web", ["tier"] = "front" }));
        await http.CreateAsync(Cms, ConfigMap("web2", new() { ["app"] = "web" }));
        await http.CreateAsync(Cms, ConfigMap("db", new() { ["app"] = "db", ["tier"] = "back" }));
        await http.CreateAsync(Cms, ConfigMap("plain", new() { ["example.com/role"] = "x" }));
        var r = await http.GetAsync(Cms + "?labelSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(200, r.Code);
        Assert.Equal(expected, Names(r));
    }

    [Theory]
    [InlineData("app in web")]
    [InlineData("!")]
    [InlineData("a b")]
    [InlineData("app in (a")]
    [InlineData("bad key=x")]
    [InlineData("app=has space")]
    [InlineData("-bad=x")]
    [InlineData("app=x!")]
    public async Task List_MalformedLabelSelector_ReturnsBadRequest(string selector)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync(Cms + "?labelSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(400, r.Code);
        Assert.Equal("BadRequest", r.Reason);
        Assert.Contains("unable to parse requirement", r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string[]> FieldSelectors => new()
    {
        { "/api/v1/configmaps", "metadata.name=a", ["a"] },
        { "/api/v1/configmaps", "metadata.name==a", ["a"] },
        { "/api/v1/configmaps", "metadata.name!=a", ["b"] },
        { "/api/v1/configmaps", "metadata.namespace=kube-system", ["b"] },
        { "/api/v1/configmaps", "metadata.namespace!=kube-system,metadata.name=a", ["a"] },
        { "/api/v1/pods", "spec.nodeName=n1", ["p1"] },
        { "/api/v1/events", "involvedObject.name=a,involvedObject.kind=ConfigMap", ["e1"] },
    };

    [Theory]
    [MemberData(nameof(FieldSelectors))]
    public async Task List_FieldSelector_Filters(string path, string selector, string[] expected)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync("/api/v1/namespaces/kube-system/configmaps", ConfigMap("b"));
        await http.CreateAsync("/api/v1/namespaces/default/pods", J("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]}}"""));
        await http.CreateAsync("/api/v1/namespaces/default/pods", J("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p2"},"spec":{"nodeName":"n2","containers":[{"name":"c","image":"i"}]}}"""));
        await http.CreateAsync("/api/v1/namespaces/default/events", J("""{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"ConfigMap","name":"a"},"reason":"R"}"""));
        await http.CreateAsync("/api/v1/namespaces/default/events", J("""{"apiVersion":"v1","kind":"Event","metadata":{"name":"e2"},"involvedObject":{"kind":"ConfigMap","name":"b"},"reason":"R"}"""));
        var r = await http.GetAsync(path + "?fieldSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(200, r.Code);
        Assert.Equal(expected, Names(r));
    }

    [Theory]
    [InlineData("/api/v1/configmaps", "spec.nodeName=x", "field label not supported: spec.nodeName")]
    [InlineData("/api/v1/namespaces/default/services", "spec.type=LoadBalancer", "field label not supported: spec.type")]
    [InlineData("/api/v1/configmaps", "metadata.name", "invalid selector")]
    public async Task List_UnsupportedFieldSelector_ReturnsBadRequest(string path, string selector, string message)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync(path + "?fieldSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(400, r.Code);
        Assert.Contains(message, r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_LimitWithSelector_PagesOverMatchingItems()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        for (var i = 0; i < 6; i++)
        {
            await http.CreateAsync(Cms, ConfigMap($"c{i}", new() { ["even"] = (i % 2 == 0).ToString().ToLowerInvariant() }));
        }

        var names = new List<string>();
        var path = Cms + "?limit=2&labelSelector=even%3Dtrue";
        while (true)
        {
            var page = await http.GetAsync(path);
            names.AddRange(Names(page));
            if (page.Body["metadata"]!["continue"]?.GetValue<string>() is not { } c)
            {
                break;
            }

            path = Cms + "?limit=2&labelSelector=even%3Dtrue&continue=" + Uri.EscapeDataString(c);
        }

        Assert.Equal(["c0", "c2", "c4"], names);
    }
}
