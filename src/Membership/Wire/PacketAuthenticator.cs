using System.Security.Cryptography;

namespace BareLb.Membership.Wire;

/// <summary>
/// HMAC-SHA256 over a packet and the receiver's name, with a list of keys: the first signs, every one verifies, so
/// a key can be rotated by adding the new key second everywhere, then first, then removing the old one.
/// Not thread-safe (the hash states are reused so that signing allocates nothing); one per protocol instance.
/// </summary>
internal sealed class PacketAuthenticator : IDisposable
{
    /// <summary>Below this a key is a password, not a key; the Secret the controller creates holds 32 random bytes.</summary>
    public const int MinKeyLength = 16;

    private readonly Key[] _keys;

    public PacketAuthenticator(IEnumerable<ReadOnlyMemory<byte>> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys.Select(k => new Key(k.Span)).ToArray();
        if (_keys.Length == 0)
        {
            throw new ArgumentException("at least one key is needed", nameof(keys));
        }
    }

    /// <summary>The hint written into packets this side signs.</summary>
    public byte SigningHint => _keys[0].Hint;

    public static byte HintOf(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(key, hash);
        return hash[0];
    }

    public void Sign(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> receiverName, Span<byte> tag) =>
        _keys[0].Compute(signed, receiverName, tag);

    public bool Verify(byte keyHint, ReadOnlySpan<byte> signed, ReadOnlySpan<byte> receiverName, ReadOnlySpan<byte> tag)
    {
        if (tag.Length != PacketFormat.TagSize)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[PacketFormat.TagSize];
        foreach (var key in _keys)
        {
            if (key.Hint != keyHint)
            {
                continue;
            }
            key.Compute(signed, receiverName, expected);
            if (CryptographicOperations.FixedTimeEquals(expected, tag))
            {
                return true;
            }
        }
        return false;
    }

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }

    private sealed class Key : IDisposable
    {
        private readonly IncrementalHash _hmac;

        public Key(ReadOnlySpan<byte> key)
        {
            if (key.Length < MinKeyLength)
            {
                throw new ArgumentException($"a membership key must be at least {MinKeyLength} bytes", nameof(key));
            }
            Hint = HintOf(key);
            _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        }

        public byte Hint { get; }

        public void Compute(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> receiverName, Span<byte> tag)
        {
            _hmac.AppendData(signed);
            _hmac.AppendData(receiverName);
            _hmac.GetHashAndReset(tag);
        }

        public void Dispose() => _hmac.Dispose();
    }
}
