namespace BareLb.Api;

/// <summary>
/// Condition types and reasons on every configuration kind (status.conditions). Write them with
/// <see cref="StatusConditions.Set"/>: the schemas require reason, message and lastTransitionTime.
/// </summary>
public static class ConfigConditions
{
    /// <summary>True when the object passed validation and is in use; False names the field and reason.</summary>
    public const string Valid = "Valid";

    public const string ReasonValid = "Valid";
    public const string ReasonInvalidSpec = "InvalidSpec";
}

/// <summary>Condition types and reasons specific to IPAddressPool.</summary>
public static class PoolConditions
{
    public const string Valid = ConfigConditions.Valid;

    /// <summary>True when the pool shares addresses with another pool; the message names the pool and the range.</summary>
    public const string Conflicting = "Conflicting";

    /// <summary>True while a deleted pool waits for its holders to release their addresses.</summary>
    public const string Draining = "Draining";

    public const string ReasonAddressesOverlap = "AddressesOverlap";
    public const string ReasonNoOverlap = "NoOverlap";
    public const string ReasonPoolDeleted = "PoolDeleted";
    public const string ReasonNotDeleted = "NotDeleted";
}
