using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class WatchTests
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task Watch_NoResourceVersion_SendsSyntheticAddedThenLiveEvents()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync(Cms, ConfigMap("b"));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true");
        Assert.Equal(System.Net.HttpStatusCode.OK, watch.Status);
        Assert.Equal("a", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("b", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());

        var patched = await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"2"}}"""));
        var modified = await watch.ExpectAsync("MODIFIED");
        Assert.Equal(patched.Rv, modified["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("ConfigMap", modified["object"]!["kind"]!.GetValue<string>());

        await http.DeleteAsync(Cms + "/a");
        var deleted = await watch.ExpectAsync("DELETED");
        Assert.Equal("2", deleted["object"]!["data"]!["k"]!.GetValue<string>());
        Assert.True(Rv(deleted["object"]!) > Rv(patched.Body));
        Assert.Equal(api.Server.CurrentResourceVersion, Rv(deleted["object"]!));
    }

    [Theory]
    [InlineData("watch=1&resourceVersion=0")]
    [InlineData("watch=true&resourceVersion=")]
    public async Task Watch_ResourceVersionZeroOrEmpty_StartsWithCurrentState(string query)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?" + query);
        await watch.ExpectAsync("ADDED");
    }

    [Fact]
    public async Task Watch_FromResourceVersion_SendsEveryLaterEventInOrder()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var a = await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync(Cms, ConfigMap("b"));
        await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"2"}}"""));
        await http.DeleteAsync(Cms + "/b");
        await http.CreateAsync("/api/v1/namespaces/kube-system/configmaps", ConfigMap("other-ns"));

        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + Rv(a));
        var e1 = await watch.ExpectAsync("ADDED");
        Assert.Equal("b", e1["object"]!["metadata"]!["name"]!.GetValue<string>());
        var e2 = await watch.ExpectAsync("MODIFIED");
        Assert.Equal("a", e2["object"]!["metadata"]!["name"]!.GetValue<string>());
        var e3 = await watch.ExpectAsync("DELETED");
        Assert.Equal("b", e3["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.True(Rv(e1["object"]!) < Rv(e2["object"]!) && Rv(e2["object"]!) < Rv(e3["object"]!));

        await http.CreateAsync(Cms, ConfigMap("c"));
        Assert.Equal("c", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_ResourceVersionOlderThanHistory_SendsExpiredErrorEventAndCloses()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var a = await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync(Cms, ConfigMap("b"));
        api.Server.CompactWatchHistory();
        var rv = Rv(a);
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + rv);
        Assert.Equal(System.Net.HttpStatusCode.OK, watch.Status);
        var error = await watch.ExpectAsync("ERROR");
        var status = error["object"]!;
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal(410, status["code"]!.GetValue<int>());
        Assert.Equal("Expired", status["reason"]!.GetValue<string>());
        Assert.StartsWith($"too old resource version: {rv} (", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(await watch.NextAsync());
    }

    [Fact]
    public async Task Watch_ResourceVersionAtCompactionPoint_StillWorks()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a"));
        api.Server.CompactWatchHistory();
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        await http.CreateAsync(Cms, ConfigMap("b"));
        Assert.Equal("b", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_SmallHistory_EvictsOldEvents()
    {
        await using var api = await ApiServerFixture.StartAsync(o => o.WatchHistorySize = 3);
        var http = new KubeHttp(api.Http);
        var first = await http.CreateAsync(Cms, ConfigMap("a"));
        for (var i = 0; i < 4; i++)
        {
            await http.CreateAsync(Cms, ConfigMap($"x{i}"));
        }

        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + Rv(first));
        Assert.Equal(410, (await watch.ExpectAsync("ERROR"))["object"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Watch_AllowBookmarks_SendsBookmarksWithOnlyResourceVersion()
    {
        await using var api = await ApiServerFixture.StartAsync(o => o.BookmarkInterval = TimeSpan.FromMilliseconds(200));
        var http = new KubeHttp(api.Http);
        var a = await http.CreateAsync(Cms, ConfigMap("a"));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + Rv(a));
        await http.CreateAsync("/api/v1/namespaces/kube-system/configmaps", ConfigMap("elsewhere"));
        var bookmark = await watch.ExpectAsync("BOOKMARK");
        for (var i = 0; i < 5 && Rv(bookmark["object"]!) != api.Server.CurrentResourceVersion; i++)
        {
            // A tick may have come before the write; the next one carries the newer resourceVersion.
            bookmark = await watch.ExpectAsync("BOOKMARK");
        }

        Assert.True(JsonNode.DeepEquals(
            J($$$"""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"{{{api.Server.CurrentResourceVersion}}}"}}"""),
            bookmark["object"]), bookmark.ToJsonString());
    }

    [Fact]
    public async Task Watch_WithoutAllowBookmarks_SendsNoBookmarks()
    {
        await using var api = await ApiServerFixture.StartAsync(o => o.BookmarkInterval = TimeSpan.FromMilliseconds(100));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        await watch.ExpectSilenceAsync(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_EndsTheStream()
    {
        await using var api = await ApiServerFixture.StartAsync();
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&timeoutSeconds=1&resourceVersion=" + api.Server.CurrentResourceVersion);
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(await watch.NextAsync(TimeSpan.FromSeconds(5)));
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task Watch_LabelSelector_TranslatesMatchTransitions()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Cms, ConfigMap("a", new() { ["app"] = "web" }));
        await http.CreateAsync(Cms, ConfigMap("b", new() { ["app"] = "db" }));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&labelSelector=app%3Dweb");
        Assert.Equal("a", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());

        // b starts matching: ADDED.
        await http.PatchAsync(Cms + "/b", J("""{"metadata":{"labels":{"app":"web"}}}"""));
        Assert.Equal("b", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());

        // a stops matching: DELETED with its previous content at the new resourceVersion.
        var moved = await http.PatchAsync(Cms + "/a", J("""{"metadata":{"labels":{"app":"db"}}}"""));
        var gone = await watch.ExpectAsync("DELETED");
        Assert.Equal("a", gone["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("web", gone["object"]!["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.Equal(moved.Rv, gone["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());

        // Changes to a non-matching object are not sent; changes to a matching one are MODIFIED.
        await http.PatchAsync(Cms + "/a", J("""{"data":{"k":"ignored"}}"""));
        await http.PatchAsync(Cms + "/b", J("""{"data":{"k":"seen"}}"""));
        var modified = await watch.ExpectAsync("MODIFIED");
        Assert.Equal("b", modified["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_FieldSelectorOnName_SeesOnlyThatObject()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await using var watch = await WatchStream.OpenAsync(api.Http,
            Cms + "?watch=true&fieldSelector=metadata.name%3Db&resourceVersion=" + api.Server.CurrentResourceVersion);
        await http.CreateAsync(Cms, ConfigMap("a"));
        await http.CreateAsync(Cms, ConfigMap("b"));
        Assert.Equal("b", (await watch.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_MalformedSelector_ReturnsBadRequestBeforeStreaming()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync(Cms + "?watch=true&labelSelector=a%20in%20b");
        Assert.Equal(400, r.Code);
    }

    [Fact]
    public async Task Watch_NamespaceDeletion_SendsDeletedForContents()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync("/api/v1/namespaces", J("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}"""));
        await http.CreateAsync("/api/v1/namespaces/team/configmaps", ConfigMap("a"));
        await using var watch = await WatchStream.OpenAsync(api.Http, "/api/v1/configmaps?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        await http.DeleteAsync("/api/v1/namespaces/team");
        Assert.Equal("a", (await watch.ExpectAsync("DELETED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_ServerDisposed_EndsStream()
    {
        var api = await ApiServerFixture.StartAsync();
        var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        var next = watch.NextAsync(TimeSpan.FromSeconds(10));
        await api.DisposeAsync();
        try
        {
            Assert.Null(await next);
        }
        catch (IOException)
        {
            // A reset connection is also an ended stream.
        }
        catch (HttpRequestException)
        {
        }

        await watch.DisposeAsync();
    }

    [Fact]
    public async Task Watch_ManyWatchersManyWrites_AllSeeEveryEventInOrder()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var start = api.Server.CurrentResourceVersion;
        var watches = new List<WatchStream>();
        for (var i = 0; i < 4; i++)
        {
            watches.Add(await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + start));
        }

        const int count = 200;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            await http.CreateAsync(Cms, ConfigMap($"cm{i}")));

        foreach (var w in watches)
        {
            long last = start;
            var names = new HashSet<string>();
            for (var i = 0; i < count; i++)
            {
                var e = await w.ExpectAsync("ADDED");
                var rv = Rv(e["object"]!);
                Assert.True(rv > last);
                last = rv;
                names.Add(e["object"]!["metadata"]!["name"]!.GetValue<string>());
            }

            Assert.Equal(count, names.Count);
            await w.DisposeAsync();
        }
    }
}
