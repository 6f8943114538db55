using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace BareLb.Speaker.Planning;

/// <summary>
/// Picks one owner node per address without any coordination: every speaker ranks the eligible nodes by a hash
/// of (node, address) and takes the highest (rendezvous hashing). All speakers that see the same node list reach
/// the same answer, and removing a node moves only the addresses it owned.
/// </summary>
public static class OwnerElection
{
    public static string? Owner(string address, IEnumerable<string> eligibleNodes)
    {
        string? best = null;
        ulong bestScore = 0;
        foreach (var node in eligibleNodes)
        {
            var score = Score(node, address);
            // Ties (practically impossible with SHA-256) fall to the ordinal-smaller name, so the answer never
            // depends on the order nodes were listed in.
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(node, best) < 0))
            {
                best = node;
                bestScore = score;
            }
        }
        return best;
    }

    private static ulong Score(string node, string address)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(node + "#" + address), hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }
}
