using System.Security.Cryptography;
using System.Text;

namespace CongressWorkflow.Domain.Common;

/// <summary>A UUID (version 8, RFC 9562) computed from a name: the same name always gives the same id.</summary>
public static class DeterministicId
{
    public static Guid From(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
