using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CongressWorkflow.Domain.Common;

/// <summary>UUIDs (version 8, RFC 9562) computed from names: the same name always gives the same id.</summary>
public static class DeterministicId
{
    /// <summary>The id of a name: its hash.</summary>
    public static Guid From(string name) => Prefixed([], name);

    /// <summary>
    /// The id of a name that belongs to a day: its first four bytes are the day's number, the rest the name's hash. Ids
    /// of one day sort together, so an index of them takes a day's new ids side by side (as it takes time-ordered ids)
    /// instead of at random places all over it.
    /// </summary>
    public static Guid From(string name, DateOnly day)
    {
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, day.DayNumber);
        return Prefixed(prefix, name);
    }

    /// <summary>The id of a name that belongs to another id's day (<see cref="From(string, DateOnly)"/>): it sorts beside it.</summary>
    public static Guid Beside(Guid sibling, string name)
    {
        Span<byte> sibling16 = stackalloc byte[16];
        sibling.TryWriteBytes(sibling16, bigEndian: true, out _);
        return Prefixed(sibling16[..4], name);
    }

    private static Guid Prefixed(ReadOnlySpan<byte> prefix, string name)
    {
        Span<byte> bytes = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), bytes);
        prefix.CopyTo(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes[..16], bigEndian: true);
    }
}
