using System.Buffers;
using System.Text;
using System.Net;
using System.Text.Json;
using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Serialization;

namespace BareLb.Kubernetes.Http;

/// <summary>
/// One watch line, {"type":"ADDED","object":{...}}, read in a single pass: the object is deserialized straight
/// from the reader once the type is known. The API server writes "type" first; when it comes second the reader
/// is rewound to the saved position of "object" (a struct copy, no re-parse of the line).
/// </summary>
internal static class WatchEventParser
{
    public static WatchEvent<T> Parse<T>(ReadOnlySequence<byte> line, ResourceType<T> type) where T : class, IKubernetesObject
    {
        try
        {
            return ParseCore(line, type);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"watch {type}: malformed event: {e.Message} in {Preview(line)}", e);
        }
    }

    private static WatchEvent<T> ParseCore<T>(ReadOnlySequence<byte> line, ResourceType<T> type) where T : class, IKubernetesObject
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException($"watch {type}: expected a JSON object, got {Preview(line)}");
        }

        string? eventType = null;
        T? obj = null;
        Status? status = null;
        Utf8JsonReader pendingObject = default;
        var objectPending = false;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                eventType = reader.GetString();
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                if (eventType is null)
                {
                    pendingObject = reader;
                    objectPending = true;
                    reader.Skip();
                }
                else
                {
                    ReadObject(ref reader, eventType, type, ref obj, ref status);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (eventType is null)
        {
            throw new InvalidDataException($"watch {type}: event without \"type\": {Preview(line)}");
        }
        if (objectPending)
        {
            ReadObject(ref pendingObject, eventType, type, ref obj, ref status);
        }

        if (eventType == "ERROR")
        {
            status ??= new Status { Kind = "Status", StatusValue = "Failure", Message = $"watch {type}: ERROR event without a Status" };
            throw KubernetesApiException.From((HttpStatusCode)(status.Code ?? 500), status);
        }
        var kind = eventType switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            _ => throw new InvalidDataException($"watch {type}: unknown event type \"{eventType}\""),
        };
        if (obj is null)
        {
            throw new InvalidDataException($"watch {type}: {eventType} event without an object");
        }
        return new WatchEvent<T>(kind, obj);
    }

    private static void ReadObject<T>(ref Utf8JsonReader reader, string eventType, ResourceType<T> type, ref T? obj, ref Status? status)
        where T : class, IKubernetesObject
    {
        if (eventType == "ERROR")
        {
            status = JsonSerializer.Deserialize(ref reader, KubernetesJsonContext.Default.Status);
        }
        else
        {
            obj = JsonSerializer.Deserialize(ref reader, type.TypeInfo);
        }
    }

    private static string Preview(ReadOnlySequence<byte> line)
    {
        var slice = line.Length > 200 ? line.Slice(0, 200) : line;
        return Encoding.UTF8.GetString(in slice) + (line.Length > 200 ? "..." : "");
    }
}
