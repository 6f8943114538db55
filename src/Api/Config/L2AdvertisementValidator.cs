using BareLb.Api.Models;

namespace BareLb.Api.Config;

public static class L2AdvertisementValidator
{
    public static ValidationResult<L2AdvertisementConfig> Validate(L2Advertisement advertisement)
    {
        ArgumentNullException.ThrowIfNull(advertisement);
        var errors = new List<ValidationError>();
        var name = advertisement.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new("metadata.name", "must be set"));
        }

        var spec = advertisement.Spec ?? new L2AdvertisementSpec();
        var pools = new PoolSelection(
            FieldLists.Names(spec.IPAddressPools, "spec.ipAddressPools", KubernetesNames.CheckDnsSubdomain, errors),
            FieldLists.Selectors(spec.IPAddressPoolSelectors, "spec.ipAddressPoolSelectors", errors));
        var nodes = FieldLists.Selectors(spec.NodeSelectors, "spec.nodeSelectors", errors);
        var interfaces = FieldLists.Names(spec.Interfaces, "spec.interfaces", KubernetesNames.CheckInterfaceName, errors);
        return ValidationResult<L2AdvertisementConfig>.Of(errors, () => new L2AdvertisementConfig(name!, pools, nodes, interfaces));
    }
}
