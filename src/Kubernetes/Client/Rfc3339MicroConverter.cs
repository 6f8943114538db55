using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;

namespace BareLb.Kubernetes.Client;

/// <summary>
/// Writes every time as RFC 3339 with exactly six fractional digits. The package writes no fraction at all when it
/// is zero, which a real API server refuses for metav1.MicroTime fields (Lease acquireTime/renewTime, event times:
/// Go parses them with the fixed-width layout ".000000"). Six digits are accepted for metav1.Time fields too (Go's
/// RFC 3339 parsing takes a fraction the layout does not name); the server keeps whole seconds there.
/// </summary>
internal sealed class Rfc3339MicroConverter : JsonConverter<DateTime>
{
    private static readonly KubernetesJson.KubernetesDateTimeConverter Reader = new();

    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Reader.Read(ref reader, typeToConvert, options);

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", CultureInfo.InvariantCulture));
}
