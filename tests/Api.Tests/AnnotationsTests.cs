namespace BareLb.Api.Tests;

public sealed class AnnotationsTests
{
    [Fact]
    public void Find_OwnNameWinsOverMetalLBNames()
    {
        var annotations = new Dictionary<string, string>
        {
            ["metallb.universe.tf/address-pool"] = "legacy",
            ["metallb.io/address-pool"] = "metallb",
            ["barelb.io/address-pool"] = "ours",
        };

        Assert.Equal(new AnnotationValue("barelb.io/address-pool", "ours"), Annotations.Find(annotations, Annotations.AddressPoolKeys));
        Assert.Equal(
            [
                new AnnotationValue("barelb.io/address-pool", "ours"),
                new AnnotationValue("metallb.io/address-pool", "metallb"),
                new AnnotationValue("metallb.universe.tf/address-pool", "legacy"),
            ],
            Annotations.FindAll(annotations, Annotations.AddressPoolKeys));
    }

    [Theory]
    [InlineData("metallb.io/loadBalancerIPs")]
    [InlineData("metallb.universe.tf/loadBalancerIPs")]
    public void Find_MetalLBNames_AreReadWhenOursIsAbsent(string key)
    {
        var annotations = new Dictionary<string, string> { [key] = "198.51.100.7" };

        Assert.Equal(new AnnotationValue(key, "198.51.100.7"), Annotations.Find(annotations, Annotations.LoadBalancerIPsKeys));
    }

    [Fact]
    public void Find_NoAnnotations_IsNull()
    {
        Assert.Null(Annotations.Find(null, Annotations.AllowSharedIPKeys));
        Assert.Null(Annotations.Find(new Dictionary<string, string> { ["other"] = "x" }, Annotations.AllowSharedIPKeys));
        Assert.Empty(Annotations.FindAll(null, Annotations.AllowSharedIPKeys));
    }

    [Fact]
    public void Names_AreTheDocumentedOnes()
    {
        Assert.Equal(["barelb.io/allow-shared-ip", "metallb.io/allow-shared-ip", "metallb.universe.tf/allow-shared-ip"], Annotations.AllowSharedIPKeys);
        Assert.Equal("barelb.io/ip-allocated-from-pool", Annotations.IPAllocatedFromPool);
        Assert.Equal("barelb.io/pool-protection", Finalizers.PoolProtection);
        Assert.Equal("barelb.io/v1beta1", BareLbResources.ApiVersion);
    }
}
