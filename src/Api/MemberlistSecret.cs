namespace BareLb.Api;

/// <summary>
/// The Secret holding the speakers' shared HMAC key, in the speakers' namespace. The controller creates it when it is
/// missing (as MetalLB's controller creates its memberlist secret); speakers only read it.
/// </summary>
public static class MemberlistSecret
{
    public const string Name = "barelb-memberlist";

    /// <summary>The data key holding the HMAC-SHA256 key (at least 16 bytes; the controller writes 32 random bytes).</summary>
    public const string KeyField = "secretkey";

    public const int KeyBytes = 32;
}
