using System.Text;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Storage;

// One committed version of an object. Object is canonical (sorted keys) and never mutated; Json is its
// serialized form, computed once and reused for every GET, LIST page and watch event.
internal sealed class StoredObject
{
    private StoredObject(string key, string ns, string name, JsonObject obj, byte[] json, long rv, int typeMetaLength)
    {
        Key = key;
        Namespace = ns;
        Name = name;
        Object = obj;
        Json = json;
        ResourceVersion = rv;
        TypeMetaLength = typeMetaLength;
    }

    public string Key { get; }

    public string Namespace { get; }

    public string Name { get; }

    public JsonObject Object { get; }

    public byte[] Json { get; }

    public long ResourceVersion { get; }

    // Length of the leading `{"apiVersion":..,"kind":..,` so list items of built-in kinds can be written
    // without their type meta (the real server omits it there), 0 when absent.
    public int TypeMetaLength { get; }

    public JsonObject? Labels => JsonTree.Obj(Object["metadata"], "labels");

    public static string MakeKey(string ns, string name) => ns.Length == 0 ? name : ns + "/" + name;

    /// <summary>Freezes <paramref name="obj"/> (already canonical, owned by the caller) at resourceVersion <paramref name="rv"/>.</summary>
    public static StoredObject Create(JsonObject obj, long rv)
    {
        var meta = JsonTree.EnsureObject(obj, "metadata");
        JsonTree.SetSorted(meta, "resourceVersion", rv.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ns = JsonTree.Str(meta, "namespace") ?? "";
        var name = JsonTree.Str(meta, "name") ?? "";
        var json = JsonTree.Serialize(obj);
        return new StoredObject(MakeKey(ns, name), ns, name, obj, json, rv, TypeMetaPrefixLength(obj, json));
    }

    private static int TypeMetaPrefixLength(JsonObject obj, byte[] json)
    {
        if (JsonTree.Str(obj, "apiVersion") is not { } apiVersion || JsonTree.Str(obj, "kind") is not { } kind)
        {
            return 0;
        }

        var prefix = Encoding.UTF8.GetBytes("{\"apiVersion\":" + JsonTree.Quote(apiVersion) + ",\"kind\":" + JsonTree.Quote(kind) + ",");
        return json.AsSpan().StartsWith(prefix) ? prefix.Length : 0;
    }

    /// <summary>The object as list items of built-in kinds are written: without apiVersion and kind.</summary>
    public ReadOnlyMemory<byte> JsonWithoutTypeMeta(out bool needsOpeningBrace)
    {
        needsOpeningBrace = TypeMetaLength > 0;
        return TypeMetaLength > 0 ? Json.AsMemory(TypeMetaLength) : Json;
    }
}
