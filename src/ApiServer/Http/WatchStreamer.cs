using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Storage;
using BareLb.ApiServer.Tables;
using Microsoft.AspNetCore.Http;

namespace BareLb.ApiServer.Http;

// ?watch=true: one JSON event per line over a chunked response, fed by the watcher's channel.
// Selector semantics follow the real watch cache: an object that starts matching arrives as ADDED, one that stops
// matching as DELETED (carrying its previous content with the event's resourceVersion).
internal sealed class WatchStreamer(
    ObjectStore store, TableConverter tables, TimeSpan bookmarkInterval, TimeProvider time, OutageSwitch outage, CancellationToken stopping)
{
    public async Task StreamAsync(HttpContext context, ResourceRequest request, bool asTable, CancellationToken ct)
    {
        var query = context.Request.Query;
        var kind = request.Kind;
        var filter = Filters.Build(kind, query["labelSelector"], query["fieldSelector"], request.Name);
        var rvText = query["resourceVersion"].ToString();
        var bookmarks = ApiRequestHandler.IsTrue(query["allowWatchBookmarks"]);
        var sendInitialEvents = ApiRequestHandler.IsTrue(query["sendInitialEvents"]);
        var include = ApiRequestHandler.IncludeObjectParam(query);
        TimeSpan? timeout = null;
        if (query["timeoutSeconds"].ToString() is { Length: > 0 } ts)
        {
            if (!long.TryParse(ts, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                throw ApiErrors.BadRequest($"timeoutSeconds: Invalid value: {JsonTree.Quote(ts)}: must be a non-negative integer");
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        long? from = null;
        if (rvText.Length > 0 && rvText != "0")
        {
            if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var rv))
            {
                throw ApiErrors.BadRequest($"resourceVersion: Invalid value: {JsonTree.Quote(rvText)}: must be a valid resourceVersion");
            }

            from = rv;
        }

        if (sendInitialEvents)
        {
            // Watch-list: the current state first, then a bookmark marking its end.
            from = null;
        }

        Watcher? watcher = null;
        StatusException? failure = null;
        long initialRv;
        lock (store.Gate)
        {
            initialRv = store.CurrentResourceVersion;
            if (from is { } n && !store.CanServeFrom(n))
            {
                failure = ApiErrors.Expired($"too old resource version: {n} ({store.CompactedResourceVersion})");
            }
            else if (from is { } m && m > store.CurrentResourceVersion)
            {
                failure = new StatusException(504, "Timeout", $"Too large resource version: {m}, current: {store.CurrentResourceVersion}",
                    new JsonObject
                    {
                        ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ResourceVersionTooLarge", ["message"] = "Too large resource version" }),
                        ["retryAfterSeconds"] = 1,
                    });
            }
            else
            {
                watcher = store.Watch(kind.StorageKey, request.Namespace, from);
                if (sendInitialEvents && bookmarks)
                {
                    watcher.Offer(new WatchItem(null, initialRv, InitialEventsEnd: true), initial: true);
                }
            }
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache, private";
        var writer = context.Response.BodyWriter;
        if (failure is not null)
        {
            writer.Write(Line("ERROR", failure.ToStatus()));
            await writer.FlushAsync(ct).ConfigureAwait(false);
            return;
        }

        var outageBegan = outage.Began;
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping, outageBegan);
        if (timeout is { } t)
        {
            lifetime.CancelAfter(t);
        }

        await writer.FlushAsync(lifetime.Token).ConfigureAwait(false);
        var bookmarkLoop = bookmarks ? BookmarkLoopAsync(watcher!, lifetime.Token) : Task.CompletedTask;
        try
        {
            while (await watcher!.WaitToReadAsync(lifetime.Token).ConfigureAwait(false))
            {
                while (watcher.TryRead(out var item))
                {
                    if (item.Event is null)
                    {
                        writer.Write(Bookmark(kind, item.BookmarkResourceVersion, item.InitialEventsEnd));
                        continue;
                    }

                    var (type, obj) = Translate(item.Event, filter);
                    if (type is null)
                    {
                        continue;
                    }

                    if (asTable)
                    {
                        writer.Write(Line(type, tables.Convert(kind, [obj!], obj!.ResourceVersion, null, include, includeHeaders: true)));
                    }
                    else if (ReferenceEquals(obj, item.Event.Object) && type == TypeName(item.Event.Type) && kind.StorageApiVersion == kind.ApiVersion)
                    {
                        writer.Write(item.Event.Line);
                    }
                    else
                    {
                        writer.Write(WatchEvent.BuildLine(ParseType(type), ApiRequestHandler.Served(kind, obj!).Span));
                    }
                }

                await writer.FlushAsync(lifetime.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Timeout, client gone, server stopping or an outage: end the stream.
        }
        finally
        {
            store.StopWatch(watcher!);
            await bookmarkLoop.ConfigureAwait(false);
        }

        if (outageBegan.IsCancellationRequested && !ct.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            await SufferOutageAsync(context, ct).ConfigureAwait(false);
        }
    }

    private async Task SufferOutageAsync(HttpContext context, CancellationToken ct)
    {
        switch (outage.Mode)
        {
            case ApiOutage.ConnectionReset:
                context.Abort();
                break;
            case ApiOutage.Silent:
                // A half-open connection: nothing more arrives, and nothing tells the client so.
                using (var hang = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping))
                {
                    try
                    {
                        await Task.Delay(Timeout.Infinite, hang.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }

                context.Abort();
                break;
        }
    }

    private static WatchEventType ParseType(string type) => type switch
    {
        "ADDED" => WatchEventType.Added,
        "MODIFIED" => WatchEventType.Modified,
        _ => WatchEventType.Deleted,
    };

    private static string TypeName(WatchEventType type) => type switch
    {
        WatchEventType.Added => "ADDED",
        WatchEventType.Modified => "MODIFIED",
        _ => "DELETED",
    };

    private static (string? Type, StoredObject? Object) Translate(WatchEvent evt, Filters filter)
    {
        var typeName = TypeName(evt.Type);
        if (filter.IsEmpty)
        {
            return (typeName, evt.Object);
        }

        var current = evt.Type != WatchEventType.Deleted && filter.Matches(evt.Object);
        var previous = evt.Type switch
        {
            WatchEventType.Added => false,
            WatchEventType.Deleted => filter.Matches(evt.Previous ?? evt.Object),
            _ => evt.Previous is not null && filter.Matches(evt.Previous),
        };
        if (evt.Type == WatchEventType.Deleted)
        {
            return previous ? ("DELETED", evt.Object) : (null, null);
        }

        return (current, previous) switch
        {
            (true, false) => ("ADDED", evt.Object),
            (true, true) => ("MODIFIED", evt.Object),
            (false, true) => ("DELETED", Rebase(evt.Previous!, evt.ResourceVersion)),
            _ => (null, null),
        };
    }

    // The previous content at the event's resourceVersion, as the watch cache sends for "stopped matching".
    private static StoredObject Rebase(StoredObject previous, long rv) => StoredObject.Create(JsonTree.CanonicalObject(previous.Object), rv);

    private async Task BookmarkLoopAsync(Watcher watcher, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(bookmarkInterval, time);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                store.Bookmark(watcher);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static byte[] Bookmark(ResourceKind kind, long rv, bool initialEventsEnd)
    {
        var meta = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) };
        if (initialEventsEnd)
        {
            meta["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        return Line("BOOKMARK", new JsonObject { ["kind"] = kind.Kind, ["apiVersion"] = kind.ApiVersion, ["metadata"] = meta });
    }

    private static byte[] Line(string type, JsonNode obj) =>
        Encoding.UTF8.GetBytes("{\"type\":\"" + type + "\",\"object\":" + Encoding.UTF8.GetString(JsonTree.Serialize(obj)) + "}\n");
}
