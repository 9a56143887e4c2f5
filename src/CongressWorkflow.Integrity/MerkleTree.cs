using System.Security.Cryptography;

namespace CongressWorkflow.Integrity;

/// <summary>
/// The Merkle tree over a checkpoint's heads (RFC 6962's hash tree: a leaf is SHA-256 of 0x00 and the head's root
/// entry, a node SHA-256 of 0x01 and its two children, the left subtree the largest power of two). A signature over its
/// root pins every head, and one head is proven to belong to it by the hashes beside its path (about twenty for a
/// national store's 846,000 heads), so an audit bundle carries its own streams' heads, not all of them.
/// </summary>
public static class MerkleTree
{
    public static byte[] Leaf(StreamHead head)
    {
        var entry = SignedCheckpoints.RootEntry(head);
        var prefixed = new byte[entry.Length + 1];
        entry.CopyTo(prefixed, 1);
        return SHA256.HashData(prefixed);
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> joined = stackalloc byte[65];
        joined[0] = 1;
        left.CopyTo(joined[1..]);
        right.CopyTo(joined[33..]);
        return SHA256.HashData(joined);
    }

    /// <summary>The root, built as the leaves come, in memory logarithmic in their number (the hashes of the perfect subtrees so far).</summary>
    public sealed class Builder
    {
        private readonly List<(long Size, byte[] Hash)> _subtrees = [];

        public void Add(byte[] leaf)
        {
            _subtrees.Add((1, leaf));
            while (_subtrees.Count > 1 && _subtrees[^1].Size == _subtrees[^2].Size)
            {
                var (right, left) = (_subtrees[^1], _subtrees[^2]);
                _subtrees.RemoveRange(_subtrees.Count - 2, 2);
                _subtrees.Add((left.Size * 2, Node(left.Hash, right.Hash)));
            }
        }

        /// <summary>The root of the leaves so far (of none: SHA-256 of nothing, as RFC 6962 has it).</summary>
        public byte[] Root()
        {
            if (_subtrees.Count == 0)
            {
                return SHA256.HashData([]);
            }

            var root = _subtrees[^1].Hash;
            for (var i = _subtrees.Count - 2; i >= 0; i--)
            {
                root = Node(_subtrees[i].Hash, root);
            }

            return root;
        }
    }

    /// <summary>
    /// The proofs of some leaves among all of them: for each, the hashes beside its path from the leaf up, level by
    /// level (a last node without a partner rises unchanged, which is the same tree as RFC 6962's).
    /// </summary>
    public static IReadOnlyDictionary<long, IReadOnlyList<byte[]>> Proofs(IReadOnlyList<byte[]> leaves, IReadOnlyCollection<long> indexes)
    {
        var proofs = indexes.Distinct().ToDictionary(i => i, _ => new List<byte[]>());
        var positions = proofs.Keys.ToDictionary(i => i, i => i);
        var level = leaves;
        while (level.Count > 1)
        {
            foreach (var leaf in proofs.Keys)
            {
                var sibling = positions[leaf] ^ 1;
                if (sibling < level.Count)
                {
                    proofs[leaf].Add(level[(int)sibling]);
                }

                positions[leaf] /= 2;
            }

            var next = new byte[(level.Count + 1) / 2][];
            for (var i = 0; i < next.Length; i++)
            {
                next[i] = 2 * i + 1 < level.Count ? Node(level[2 * i], level[2 * i + 1]) : level[2 * i];
            }

            level = next;
        }

        return proofs.ToDictionary(p => p.Key, p => (IReadOnlyList<byte[]>)p.Value);
    }

    /// <summary>The root that a leaf at <paramref name="index"/> of <paramref name="size"/> leaves and its proof lead to; null when the proof does not fit the place.</summary>
    public static byte[]? RootFrom(byte[] leaf, long index, long size, IReadOnlyList<byte[]> proof)
    {
        if (index < 0 || index >= size)
        {
            return null;
        }

        var (hash, position, width, used) = (leaf, index, size, 0);
        while (width > 1)
        {
            var sibling = position ^ 1;
            if (sibling < width)
            {
                if (used == proof.Count)
                {
                    return null;
                }

                hash = position % 2 == 0 ? Node(hash, proof[used]) : Node(proof[used], hash);
                used++;
            }

            (position, width) = (position / 2, (width + 1) / 2);
        }

        return used == proof.Count ? hash : null;
    }
}
