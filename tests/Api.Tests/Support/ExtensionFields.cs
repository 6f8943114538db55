using BareLb.Api.Models;
using System.Collections;
using System.Reflection;

namespace BareLb.Api.Tests.Support;

internal static class ExtensionFields
{
    /// <summary>JSON paths of every field that landed in extension data, i.e. that no model property declares.</summary>
    public static List<string> Of(object? model, string path = "")
    {
        var found = new List<string>();
        Walk(model, path, found);
        return found;
    }

    private static void Walk(object? value, string path, List<string> found)
    {
        switch (value)
        {
            case null or string:
                return;
            case JsonModel model:
                foreach (var key in model.ExtensionData?.Keys ?? Enumerable.Empty<string>())
                {
                    found.Add(Join(path, key));
                }

                foreach (var property in model.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (property.Name != nameof(JsonModel.ExtensionData) && property.GetIndexParameters().Length == 0)
                    {
                        var name = property.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? property.Name;
                        Walk(property.GetValue(model), Join(path, name), found);
                    }
                }

                return;
            case IDictionary:
                return;
            case IEnumerable items:
                var i = 0;
                foreach (var item in items)
                {
                    Walk(item, $"{path}[{i++}]", found);
                }

                return;
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
