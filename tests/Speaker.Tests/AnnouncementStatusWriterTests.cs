using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Speaker.Status;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Tests;

public sealed class AnnouncementStatusWriterTests
{
    private const string Me = StatusWriterHarness<ServiceL2Status>.Me;
    private static readonly IReadOnlySet<string> NoneDead = new HashSet<string>();

    private static Task<StatusWriterHarness<ServiceL2Status>> L2Async(bool runInformer = true, bool runWriter = true) =>
        StatusWriterHarness<ServiceL2Status>.StartAsync(BareLbResources.ServiceL2Statuses, "l2", s => s.Status, runInformer, runWriter);

    private static JsonObject L2Status(string service, params string[] interfaces) => new()
    {
        ["node"] = Me,
        ["serviceName"] = service,
        ["serviceNamespace"] = "demo",
        ["interfaces"] = new JsonArray([.. interfaces.Select(i => (JsonNode)new JsonObject { ["name"] = i })]),
    };

    private static StatusEntry L2Entry(string service, params string[] interfaces) => new("demo", service, L2Status(service, interfaces));

    private static string[] Interfaces(ServiceL2Status? status) => [.. status?.Status?.Interfaces?.Select(i => i.Name ?? "") ?? []];

    [Fact]
    public async Task SetDesired_NewService_CreatedWithLabelsAndStatus()
    {
        await using var h = await L2Async();
        var name = h.NameFor(Me, "web");

        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);

        await h.WaitUntilAsync(() => Interfaces(h.Cached(name)).SequenceEqual(["eth0"]), "status showing eth0");
        await h.FullPassAsync();
        var stored = await h.GetAsync(name);
        Assert.NotNull(stored);
        Assert.Equal(new Dictionary<string, string>
        {
            [StatusLabels.Node] = Me,
            [StatusLabels.ServiceName] = "web",
            [StatusLabels.ServiceNamespace] = "demo",
        }, stored.Metadata.Labels);
        Assert.Equal((Me, "web", "demo"), (stored.Status!.Node, stored.Status.ServiceName, stored.Status.ServiceNamespace));
        Assert.Equal(["eth0"], Interfaces(stored));
        Assert.Equal([name], h.Client.Created);
        Assert.Equal([name], h.Client.Patched);
        // The object shows up without status before the status patch: no failed pass, no retry, no second patch.
        Assert.DoesNotContain(h.Log.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task SetDesired_OwnObjectWithoutStatus_StatusWrittenAndOtherWorkNotBlocked()
    {
        // As left by a run whose status patch failed after the create.
        await using var h = await L2Async();
        await h.SeedAndCacheAsync(Me, "web");
        await h.SeedAndCacheAsync(Me, "stale");

        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);

        await h.WaitUntilAsync(() => Interfaces(h.Cached(h.NameFor(Me, "web"))).SequenceEqual(["eth0"]) && !h.Exists(h.NameFor(Me, "stale")),
            "status written and the stale object deleted");
        Assert.Empty(h.Client.Created);
        Assert.DoesNotContain(h.Log.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task RunAsync_BeforeTheFirstSetDesired_StatusesOfAPreviousRunKept()
    {
        await using var h = await L2Async();
        await h.SeedAsync(Me, "web", L2Status("web", "eth0"));
        await h.SeedAsync(Me, "gone", L2Status("gone", "eth0"));
        await h.WaitUntilAsync(() => h.Informer.List().Count(s => s.Status is not null) == 2, "seeded statuses cached");
        var uid = h.Cached(h.NameFor(Me, "web"))!.Metadata.Uid;
        h.Writer.Signal();
        Assert.True(h.Writer.HasOwnStatuses);

        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);

        await h.WaitUntilAsync(() => !h.Exists(h.NameFor(Me, "gone")), "the status of a Service no longer announced deleted");
        await h.FullPassAsync();
        Assert.Equal(uid, h.Cached(h.NameFor(Me, "web"))?.Metadata.Uid);
        Assert.Empty(h.Client.Created);
        Assert.Empty(h.Client.Patched);
    }

    [Fact]
    public async Task SetDesired_InterfacesChange_StatusPatchedInPlace()
    {
        await using var h = await L2Async();
        var name = h.NameFor(Me, "web");
        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);
        await h.WaitUntilAsync(() => Interfaces(h.Cached(name)).SequenceEqual(["eth0"]), "first status");
        var uid = h.Cached(name)!.Metadata.Uid;

        h.Writer.SetDesired([L2Entry("web", "eth0", "eth1")], NoneDead);

        await h.WaitUntilAsync(() => Interfaces(h.Cached(name)).SequenceEqual(["eth0", "eth1"]), "status showing eth0 and eth1");
        await h.FullPassAsync();
        Assert.Equal(uid, h.Cached(name)!.Metadata.Uid);
        Assert.Equal([name], h.Client.Created);
        Assert.Equal([name, name], h.Client.Patched);
    }

    [Fact]
    public async Task Reconcile_NothingChanged_NoWrites()
    {
        await using var h = await L2Async();
        h.Writer.SetDesired([L2Entry("web", "eth0"), L2Entry("dns")], NoneDead);
        await h.WaitUntilAsync(() => h.Informer.List().Count(s => s.Status is not null) == 2, "both written");
        await h.FullPassAsync();
        var (created, patched) = (h.Client.Created.Count, h.Client.Patched.Count);

        h.Writer.SetDesired([L2Entry("web", "eth0"), L2Entry("dns")], NoneDead);
        await h.FullPassAsync();
        await h.FullPassAsync();

        Assert.Equal(created, h.Client.Created.Count);
        Assert.Equal(patched, h.Client.Patched.Count);
    }

    [Fact]
    public async Task SetDesired_ExistingStatusFromAnEarlierRun_KeptOrPatchedNeverRecreated()
    {
        await using var h = await L2Async();
        await h.SeedAsync(Me, "same", L2Status("same", "eth0"));
        await h.SeedAsync(Me, "changed", L2Status("changed", "eth0"));
        await h.WaitUntilAsync(() => h.Informer.List().Count(s => s.Status is not null) == 2, "seeded statuses cached");

        h.Writer.SetDesired([L2Entry("same", "eth0"), L2Entry("changed", "eth1")], NoneDead);

        await h.WaitUntilAsync(() => Interfaces(h.Cached(h.NameFor(Me, "changed"))).SequenceEqual(["eth1"]), "changed status patched");
        await h.FullPassAsync();
        Assert.Empty(h.Client.Created);
        Assert.Equal([h.NameFor(Me, "changed")], h.Client.Patched);
    }

    [Fact]
    public async Task SetDesired_ServiceNoLongerAnnounced_OwnStatusDeleted()
    {
        await using var h = await L2Async();
        h.Writer.SetDesired([L2Entry("web", "eth0"), L2Entry("dns", "eth0")], NoneDead);
        await h.WaitUntilAsync(() => h.Client.Patched.Count == 2, "both written");

        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);

        await h.WaitUntilAsync(() => !h.Exists(h.NameFor(Me, "dns")), "dns status deleted");
        await h.FullPassAsync();
        Assert.Equal([h.NameFor(Me, "web")], h.Names());
        Assert.Equal([h.NameFor(Me, "dns")], h.Client.Deleted.Where(n => !n.Contains("marker", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SetDesired_DeadNode_ItsStatusGoesOnlyForServicesWeAnnounce()
    {
        await using var h = await L2Async();
        await h.SeedAndCacheAsync("node-b", "web");
        await h.SeedAndCacheAsync("node-b", "other");
        await h.SeedAndCacheAsync("node-c", "web");
        await h.SeedAndCacheAsync("node-b", "web", serviceNamespace: "elsewhere");

        // node-b not known dead yet: nothing of it is touched.
        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);
        await h.WaitUntilAsync(() => h.Exists(h.NameFor(Me, "web")), "our status");
        await h.FullPassAsync();
        Assert.True(h.Exists(h.NameFor("node-b", "web")));

        h.Writer.SetDesired([L2Entry("web", "eth0")], new HashSet<string> { "node-b" });
        await h.WaitUntilAsync(() => !h.Exists(h.NameFor("node-b", "web")), "dead node-b's status for web deleted");
        await h.FullPassAsync();

        Assert.Equal(new[]
        {
            h.NameFor(Me, "web"), h.NameFor("node-b", "other"), h.NameFor("node-b", "web", "elsewhere"), h.NameFor("node-c", "web"),
        }.Order(StringComparer.Ordinal), h.Names());
    }

    [Fact]
    public async Task RunAsync_ApiErrors_RetriedWithDoublingBackoffThatResetsAfterSuccess()
    {
        await using var h = await L2Async();
        var name = h.NameFor(Me, "web");

        h.Client.FailCreates = 1;
        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);
        Assert.Equal(TimeSpan.FromSeconds(1), await h.Time.WaitForTimerAsync(d => d == TimeSpan.FromSeconds(1), default).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal([$"create {name}"], h.Client.Failed);
        Assert.False(h.Exists(name));
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.WaitUntilAsync(() => Interfaces(h.Cached(name)).SequenceEqual(["eth0"]), "status written after the retry");

        h.Client.FailPatches = 2;
        h.Writer.SetDesired([L2Entry("web", "eth1")], NoneDead);
        h.Time.Advance(await h.Time.WaitForTimerAsync(d => d == TimeSpan.FromSeconds(1), default).WaitAsync(TimeSpan.FromSeconds(20)));
        h.Time.Advance(await h.Time.WaitForTimerAsync(d => d == TimeSpan.FromSeconds(2), default).WaitAsync(TimeSpan.FromSeconds(20)));
        await h.WaitUntilAsync(() => Interfaces(h.Cached(name)).SequenceEqual(["eth1"]), "status patched after two retries");

        h.Client.FailDeletes = 1;
        h.Writer.SetDesired([], NoneDead);
        h.Time.Advance(await h.Time.WaitForTimerAsync(d => d == TimeSpan.FromSeconds(1), default).WaitAsync(TimeSpan.FromSeconds(20)));
        await h.WaitUntilAsync(() => !h.Exists(name), "status deleted after the retry");

        Assert.Equal([$"create {name}", $"patch {name}", $"patch {name}", $"delete {name}"], h.Client.Failed);
        Assert.Empty(h.Time.PendingTimers);
    }

    [Fact]
    public async Task Create_ObjectExistsButNotYetInTheCache_StatusStillWritten()
    {
        // The informer is not running: the writer's cache shows nothing, as right after a restart before the watch caught up.
        await using var h = await L2Async(runInformer: false);
        var name = h.NameFor(Me, "web");
        await h.SeedAsync(Me, "web");

        h.Writer.SetDesired([L2Entry("web", "eth0")], NoneDead);

        await h.WaitUntilAsync(() => h.Client.Patched.Contains(name), "status patched");
        Assert.Equal(["eth0"], Interfaces(await h.GetAsync(name)));
        Assert.Empty(h.Client.Created);
        Assert.Empty(h.Client.Failed);
    }

    [Fact]
    public async Task RemoveAllAsync_DeletesOwnStatusesOnly()
    {
        await using var h = await L2Async(runWriter: false);
        await h.SeedAndCacheAsync(Me, "web");
        await h.SeedAndCacheAsync(Me, "dns");
        await h.SeedAndCacheAsync("node-b", "web");

        await h.Writer.RemoveAllAsync(default);

        Assert.Equal([h.NameFor(Me, "dns"), h.NameFor(Me, "web")], h.Client.Deleted.Order(StringComparer.Ordinal));
        Assert.Null(await h.GetAsync(h.NameFor(Me, "web")));
        Assert.NotNull(await h.GetAsync(h.NameFor("node-b", "web")));
    }

    [Fact]
    public async Task RemoveAllAsync_WhileRunning_StatusesNotWrittenAgain()
    {
        await using var h = await L2Async();
        h.Writer.SetDesired([L2Entry("web", "eth0"), L2Entry("dns", "eth0")], NoneDead);
        await h.WaitUntilAsync(() => h.Client.Patched.Count == 2 && h.Informer.List().Count == 2, "both written");

        await h.Writer.RemoveAllAsync(default);
        // The deletions come back as informer events, which signal the writer (as in the speaker): its next passes
        // must not bring the statuses back.
        await h.WaitUntilAsync(() => h.Informer.List().Count == 0, "deletions seen");
        await h.FullPassAsync();

        Assert.Equal(2, h.Client.Created.Count);
        Assert.Empty(h.Names());
    }

    [Fact]
    public async Task HasOwnStatuses_OnlyWhenThisNodeWroteSome()
    {
        await using var h = await L2Async(runWriter: false);
        await h.SeedAndCacheAsync("node-b", "web");
        Assert.False(h.Writer.HasOwnStatuses);

        await h.SeedAndCacheAsync(Me, "web");

        Assert.True(h.Writer.HasOwnStatuses);
    }

    [Fact]
    public async Task BgpStatus_PeersWrittenPatchedAndLeftAloneWhenUnchanged()
    {
        await using var h = await StatusWriterHarness<ServiceBGPStatus>.StartAsync(BareLbResources.ServiceBGPStatuses, "bgp", s => s.Status);
        var name = h.NameFor(Me, "web");
        StatusEntry Entry(params string[] peers) => new("demo", "web", new JsonObject
        {
            ["node"] = Me,
            ["serviceName"] = "web",
            ["serviceNamespace"] = "demo",
            ["peers"] = new JsonArray([.. peers.Select(p => (JsonNode)JsonValue.Create(p))]),
        });
        string[] Peers() => [.. h.Cached(name)?.Status?.Peers ?? []];

        h.Writer.SetDesired([Entry("router-1")], NoneDead);
        await h.WaitUntilAsync(() => Peers().SequenceEqual(["router-1"]), "peers written");
        h.Writer.SetDesired([Entry("router-1", "router-2")], NoneDead);
        await h.WaitUntilAsync(() => Peers().SequenceEqual(["router-1", "router-2"]), "peers patched");
        h.Writer.SetDesired([Entry("router-1", "router-2")], NoneDead);
        await h.FullPassAsync();

        Assert.StartsWith("bgp-", name, StringComparison.Ordinal);
        Assert.Equal([name], h.Client.Created);
        Assert.Equal([name, name], h.Client.Patched);
    }

    [Fact]
    public void NameFor_StableValidAndDistinctPerNodeAndService()
    {
        var names = new[]
        {
            AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "a", "demo", "web"),
            AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "b", "demo", "web"),
            AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "a", "other", "web"),
            AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "a", "demo", "dns"),
            AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "a", "demo-web", ""),
            AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "a", "demo", "-web"),
        };

        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.Equal(names[0], AnnouncementStatusWriter<ServiceL2Status>.NameFor("l2", "a", "demo", "web"));
        Assert.All(names, n => Assert.Matches("^l2-[0-9a-f]{20}$", n));
    }
}
