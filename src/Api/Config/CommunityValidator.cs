using BareLb.Api.Models;

namespace BareLb.Api.Config;

/// <summary>A Community object's aliases, by name. Names unique across objects are checked by <see cref="ConfigParser"/>.</summary>
public static class CommunityValidator
{
    public static ValidationResult<IReadOnlyDictionary<string, BgpCommunity>> Validate(Community community)
    {
        ArgumentNullException.ThrowIfNull(community);
        var errors = new List<ValidationError>();
        if (string.IsNullOrEmpty(community.Metadata?.Name))
        {
            errors.Add(new("metadata.name", "must be set"));
        }

        var aliases = new Dictionary<string, BgpCommunity>(StringComparer.Ordinal);
        var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var entries = community.Spec?.Communities ?? [];
        for (var i = 0; i < entries.Count; i++)
        {
            var field = $"spec.communities[{i}]";
            var entry = entries[i];
            if (entry is null)
            {
                errors.Add(new(field, "must be an object with name and value, not null"));
                continue;
            }

            var before = errors.Count;
            if (CheckAliasName(entry.Name) is { } nameError)
            {
                errors.Add(new($"{field}.name", nameError));
            }

            BgpCommunity value = default;
            if (entry.Value is null)
            {
                errors.Add(new($"{field}.value", "must be set"));
            }
            else if (!BgpCommunity.TryParse(entry.Value, out value, out var valueError))
            {
                errors.Add(new($"{field}.value", valueError));
            }

            if (errors.Count != before)
            {
                continue;
            }

            if (firstIndex.TryGetValue(entry.Name!, out var first))
            {
                errors.Add(new($"{field}.name", $"alias \"{entry.Name}\" is defined twice (also spec.communities[{first}])"));
                continue;
            }

            firstIndex[entry.Name!] = i;
            aliases[entry.Name!] = value;
        }

        return ValidationResult<IReadOnlyDictionary<string, BgpCommunity>>.Of(errors, () => aliases);
    }

    // A name with ':' would read as a community value in BGPAdvertisement.spec.communities.
    internal static string? CheckAliasName(string? name) => name switch
    {
        null or "" => "must be set",
        _ when name.Length > 63 => $"alias \"{name}\" is longer than 63 characters",
        _ when name.Contains(':') => $"alias \"{name}\" contains ':', which would make it read as a community value",
        _ when name.Any(char.IsWhiteSpace) => $"alias \"{name}\" contains whitespace",
        _ => null,
    };
}
