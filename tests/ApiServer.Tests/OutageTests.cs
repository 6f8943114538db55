using System.Net;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// InMemoryApiServer.SetOutage: the failure modes a client must survive, with the server's state intact afterwards.
public sealed class OutageTests
{
    private const string Cms = "/api/v1/namespaces/default/configmaps";

    [Fact]
    public async Task ServiceUnavailable_RequestsGet503AndWatchesEnd_StateSurvives()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var before = await http.CreateAsync(Cms, ConfigMap("kept"));
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + Rv(before));

        api.Server.SetOutage(ApiOutage.ServiceUnavailable);
        Assert.Equal(ApiOutage.ServiceUnavailable, api.Server.Outage);
        Assert.Null(await watch.NextAsync());
        var down = await http.GetAsync(Cms + "/kept");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
        Assert.Equal("ServiceUnavailable", down.Reason);

        api.Server.SetOutage(ApiOutage.None);
        var up = await http.GetAsync(Cms + "/kept");
        Assert.Equal(200, up.Code);
        Assert.Equal(Rv(before), Rv(up.Body));
        await using var resumed = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + Rv(before));
        await http.CreateAsync(Cms, ConfigMap("after"));
        Assert.Equal("after", (await resumed.ExpectAsync("ADDED"))["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConnectionReset_RequestsAndWatchesAreAborted()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);

        api.Server.SetOutage(ApiOutage.ConnectionReset);
        await Assert.ThrowsAnyAsync<Exception>(async () => await watch.NextAsync());
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(Cms));

        api.Server.SetOutage(ApiOutage.None);
        Assert.Equal(200, (await http.GetAsync(Cms)).Code);
    }

    // A half-open connection: nothing is answered and nothing says so, even after the server is back.
    [Fact]
    public async Task Silent_RequestsHangAndWatchesGoQuietForGood()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await using var watch = await WatchStream.OpenAsync(api.Http, Cms + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + api.Server.CurrentResourceVersion);

        api.Server.SetOutage(ApiOutage.Silent);
        using (var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => api.Http.GetAsync(Cms, giveUp.Token));
        }

        api.Server.SetOutage(ApiOutage.None);
        await http.CreateAsync(Cms, ConfigMap("unseen"));
        await watch.ExpectSilenceAsync(TimeSpan.FromMilliseconds(500));
        Assert.Single((await http.GetAsync(Cms)).Body["items"]!.AsArray());
    }
}
