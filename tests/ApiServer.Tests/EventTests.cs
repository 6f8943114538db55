using System.Text.Json.Nodes;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

// events.k8s.io/v1 and core/v1 Events: one storage seen through pkg/apis/events/v1/conversion.go.
public sealed class EventTests
{
    private const string V1Events = "/apis/events.k8s.io/v1/namespaces/default/events";
    private const string CoreEvents = "/api/v1/namespaces/default/events";

    private static JsonObject NewEvent(string name, Action<JsonObject>? change = null)
    {
        var e = J($$$"""
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"{{{name}}}"},
             "eventTime":"2024-05-01T10:20:30.123456Z","reportingController":"barelb.io/controller","reportingInstance":"node-1",
             "action":"Allocate","reason":"IPAllocated","type":"Normal","note":"Assigned 203.0.113.10",
             "regarding":{"apiVersion":"v1","kind":"Service","namespace":"default","name":"web","uid":"u-1"}}
            """);
        change?.Invoke(e);
        return e;
    }

    [Fact]
    public async Task Discovery_ServesEventsGroupNextToCoreEvents()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var list = await http.GetAsync("/apis/events.k8s.io/v1");
        var events = list.Body["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "events")!;
        Assert.Equal("Event", events["kind"]!.GetValue<string>());
        Assert.True(events["namespaced"]!.GetValue<bool>());
        Assert.Contains("watch", events["verbs"]!.AsArray().Select(v => v!.GetValue<string>()));
        var groups = await http.GetAsync("/apis");
        Assert.Contains(groups.Body["groups"]!.AsArray(), g => g!["name"]!.GetValue<string>() == "events.k8s.io");
        var aggregated = await http.GetAsync("/apis", accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        Assert.Contains(aggregated.Body["items"]!.AsArray(), i => i!["metadata"]!["name"]!.GetValue<string>() == "events.k8s.io");
    }

    [Fact]
    public async Task CreateV1_ReadThroughCore_FieldsMappedAndGoShape()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(V1Events, NewEvent("web.1"));
        Assert.Equal("events.k8s.io/v1", created["apiVersion"]!.GetValue<string>());
        Assert.Equal("Assigned 203.0.113.10", created["note"]!.GetValue<string>());
        Assert.Equal("web", created["regarding"]!["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(new JsonObject(), created["deprecatedSource"]));
        Assert.True(created.ContainsKey("deprecatedFirstTimestamp") && created["deprecatedFirstTimestamp"] is null);

        var core = (await http.GetAsync(CoreEvents + "/web.1")).Body;
        Assert.Equal("v1", core["apiVersion"]!.GetValue<string>());
        Assert.Equal("Assigned 203.0.113.10", core["message"]!.GetValue<string>());
        Assert.Equal("web", core["involvedObject"]!["name"]!.GetValue<string>());
        Assert.Equal("barelb.io/controller", core["reportingComponent"]!.GetValue<string>());
        Assert.Equal("node-1", core["reportingInstance"]!.GetValue<string>());
        Assert.Equal("2024-05-01T10:20:30.123456Z", core["eventTime"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(new JsonObject(), core["source"]));
        Assert.True(core.ContainsKey("firstTimestamp") && core["firstTimestamp"] is null);
        Assert.Equal(core["metadata"]!["uid"]!.GetValue<string>(), created["metadata"]!["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateCore_ReadThroughV1_FieldsMapped()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(CoreEvents, J("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"old.1"},"involvedObject":{"kind":"Service","namespace":"default","name":"web"},
             "reason":"Synced","message":"done","type":"Normal","count":3,"source":{"component":"barelb-controller","host":"n1"},
             "firstTimestamp":"2024-05-01T10:00:00.9Z","lastTimestamp":"2024-05-01T10:05:00Z"}
            """));
        var v1 = (await http.GetAsync(V1Events + "/old.1")).Body;
        Assert.Equal("events.k8s.io/v1", v1["apiVersion"]!.GetValue<string>());
        Assert.Equal("done", v1["note"]!.GetValue<string>());
        Assert.Equal(3, v1["deprecatedCount"]!.GetValue<int>());
        Assert.Equal("barelb-controller", v1["deprecatedSource"]!["component"]!.GetValue<string>());
        Assert.Equal("2024-05-01T10:00:00Z", v1["deprecatedFirstTimestamp"]!.GetValue<string>());
        Assert.True(v1.ContainsKey("eventTime") && v1["eventTime"] is null);
        Assert.Null(v1["reportingController"]);
        var list = await http.GetAsync(V1Events);
        var item = Assert.Single(list.Body["items"]!.AsArray())!;
        Assert.Equal("EventList", list.Body["kind"]!.GetValue<string>());
        Assert.Equal("done", item["note"]!.GetValue<string>());
        Assert.Null(item["apiVersion"]);
    }

    public static TheoryData<string, string, string> InvalidV1Events => new()
    {
        { """{"eventTime":null}""", "eventTime", "Required value" },
        { """{"type":"Info"}""", "type", "Invalid value: \"\": has invalid value: Info" },
        { """{"reportingController":null}""", "reportingController", "Required value" },
        { """{"reportingInstance":null}""", "reportingInstance", "Required value" },
        { """{"action":null}""", "action", "Required value" },
        { """{"reason":null}""", "reason", "Required value" },
        { """{"series":{"count":1,"lastObservedTime":"2024-05-01T10:20:31.000000Z"}}""", "series.count", "Invalid value: \"\": should be at least 2" },
        { """{"deprecatedCount":2}""", "count", "Invalid value: \"\": needs to be unset" },
        { """{"deprecatedSource":{"component":"x"}}""", "source", "Invalid value: \"\": needs to be unset" },
    };

    [Theory]
    [MemberData(nameof(InvalidV1Events))]
    public async Task CreateV1_InvalidEvent_IsRefusedWithCoreFieldPath(string change, string field, string message)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var e = NewEvent("bad", o =>
        {
            foreach (var (k, v) in J(change))
            {
                o[k] = v?.DeepClone();
            }
        });
        var r = await new KubeHttp(api.Http).PostAsync(V1Events, e);
        Assert.Equal(422, r.Code);
        Assert.StartsWith("Event.events.k8s.io \"bad\" is invalid", r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(r.Body["details"]!["causes"]!.AsArray(),
            c => c!["field"]!.GetValue<string>() == field && c["message"]!.GetValue<string>() == message);
    }

    // core/v1 keeps legacy validation only, but an event with eventTime must still say who reported it.
    [Fact]
    public async Task CreateCore_EventTimeWithoutReporter_IsRefused()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PostAsync(CoreEvents, J("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"x"},"involvedObject":{"kind":"Service","namespace":"default","name":"web"},
             "eventTime":"2024-05-01T10:20:30.000000Z","reason":"R"}
            """));
        Assert.Equal(422, r.Code);
        var fields = r.Body["details"]!["causes"]!.AsArray().Select(c => c!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["reportingController", "reportingController", "reportingInstance", "action"], fields);
    }

    [Fact]
    public async Task CreateCore_LegacyEventInOtherNamespaceThanItsObject_IsRefused()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PostAsync(CoreEvents, J("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"x"},"involvedObject":{"kind":"Service","namespace":"kube-system","name":"dns"},"reason":"R"}
            """));
        Assert.Equal(422, r.Code);
        Assert.Equal("Event \"x\" is invalid: involvedObject.namespace: Invalid value: \"kube-system\": does not match event.namespace",
            r.Body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateCore_LegacyEventWithoutEventTime_IsAccepted()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).PostAsync(CoreEvents, J("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"Web_Svc.17"},"involvedObject":{"kind":"Node","name":"n1"},"reason":"R","message":"m"}
            """));
        Assert.Equal(201, r.Code);
        Assert.Equal("", r.Body["reportingComponent"]!.GetValue<string>());
        Assert.True(r.Body.ContainsKey("eventTime") && r.Body["eventTime"] is null);
    }

    [Theory]
    [InlineData("regarding.name=web", new[] { "a" })]
    [InlineData("reportingController=barelb.io/other", new[] { "b" })]
    [InlineData("source=barelb.io/controller", new[] { "a" })]
    [InlineData("type=Warning,reason=Failed", new[] { "b" })]
    public async Task ListV1_FieldSelector_UsesEventsGroupLabels(string selector, string[] expected)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(V1Events, NewEvent("a"));
        await http.CreateAsync(V1Events, NewEvent("b", e =>
        {
            e["regarding"]!["name"] = "db";
            e["reportingController"] = "barelb.io/other";
            e["type"] = "Warning";
            e["reason"] = "Failed";
        }));
        var r = await http.GetAsync(V1Events + "?fieldSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(200, r.Code);
        Assert.Equal(expected, r.Body["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(V1Events, "involvedObject.name=web", "field label not supported: involvedObject.name")]
    [InlineData(CoreEvents, "regarding.name=web", "field label not supported: regarding.name")]
    public async Task List_OtherApisFieldLabel_IsBadRequest(string path, string selector, string message)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var r = await new KubeHttp(api.Http).GetAsync(path + "?fieldSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(400, r.Code);
        Assert.Equal(message, r.Body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task WatchV1_EventCreatedThroughCore_ArrivesConverted()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await using var watch = await WatchStream.OpenAsync(api.Http, V1Events + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        await http.CreateAsync(CoreEvents, J("""{"apiVersion":"v1","kind":"Event","metadata":{"name":"c"},"involvedObject":{"kind":"Node","name":"n1"},"message":"hello"}"""));
        var evt = await watch.ExpectAsync("ADDED");
        Assert.Equal("events.k8s.io/v1", evt["object"]!["apiVersion"]!.GetValue<string>());
        Assert.Equal("hello", evt["object"]!["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchV1_SeriesChangesButNoteIsImmutable()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(V1Events, NewEvent("s"));
        var series = await http.PatchAsync(V1Events + "/s", J("""{"series":{"count":2,"lastObservedTime":"2024-05-01T10:21:00.000000Z"}}"""));
        Assert.Equal(200, series.Code);
        Assert.Equal(2, series.Body["series"]!["count"]!.GetValue<int>());
        var note = await http.PatchAsync(V1Events + "/s", J("""{"note":"changed"}"""));
        Assert.Equal(422, note.Code);
        Assert.Equal("message", note.Body["details"]!["causes"]![0]!["field"]!.GetValue<string>());
        Assert.EndsWith("field is immutable", note.Body["details"]!["causes"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Table_Events_HasKubectlColumns()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(V1Events, NewEvent("t", e => e["series"] = J("""{"count":4,"lastObservedTime":"2024-05-01T10:21:00.000000Z"}""")));
        var table = await http.GetAsync(CoreEvents, accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal(["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"],
            table.Body["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var cells = table.Body["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("Normal", cells[1]!.GetValue<string>());
        Assert.Equal("IPAllocated", cells[2]!.GetValue<string>());
        Assert.Equal("service/web", cells[3]!.GetValue<string>());
        Assert.Equal("barelb.io/controller, node-1", cells[5]!.GetValue<string>());
        Assert.Equal("Assigned 203.0.113.10", cells[6]!.GetValue<string>());
        Assert.Equal(4, cells[8]!.GetValue<long>());
        Assert.Equal("t", cells[9]!.GetValue<string>());
    }

    // The official client's events.k8s.io/v1 model round-trips, and its core/v1 view sees the same Event.
    [Fact]
    public async Task OfficialClient_CreatesThroughEventsV1AndListsThroughCore()
    {
        await using var api = await ApiServerFixture.StartAsync();
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.BaseAddress.ToString() });
        var created = await client.EventsV1.CreateNamespacedEventAsync(new Eventsv1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = "web." },
            EventTime = new DateTime(2024, 5, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234567),
            ReportingController = "barelb.io/controller",
            ReportingInstance = "node-1",
            Action = "Allocate",
            Reason = "IPAllocated",
            Type = "Normal",
            Note = "Assigned",
            Regarding = new V1ObjectReference { ApiVersion = "v1", Kind = "Service", NamespaceProperty = "default", Name = "web" },
        }, "default");
        Assert.Equal(new DateTime(2024, 5, 1, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234560), created.EventTime);
        var core = await client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=web");
        var item = Assert.Single(core.Items);
        Assert.Equal("Assigned", item.Message);
        Assert.Equal("barelb.io/controller", item.ReportingComponent);
    }
}
