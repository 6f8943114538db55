namespace BareLb.Api;

public static class Finalizers
{
    /// <summary>
    /// On IPAddressPools: held while Services still hold addresses from the pool, so deleting a pool drains it
    /// instead of silently orphaning those addresses.
    /// </summary>
    public const string PoolProtection = "barelb.io/pool-protection";
}
