using System.Runtime.CompilerServices;

namespace CongressWorkflow.Integrity;

/// <summary>Reads what it can of a chunk of a JSON document; returns the bytes consumed (the rest is a token or value cut by the chunk's end).</summary>
internal delegate int JsonChunkFeed(ReadOnlySpan<byte> chunk, bool isFinalBlock);

/// <summary>A JSON document fed to a reader chunk by chunk as it streams, what a chunk leaves unread going first in the next.</summary>
internal static class JsonChunks
{
    /// <summary>Feeds the document in chunks of 64 KB (more when one token or value needs it), yielding after each; ends after the final block, or when <paramref name="feed"/> returns a negative count (it stopped).</summary>
    public static async IAsyncEnumerable<bool> FeedAsync(Stream document, JsonChunkFeed feed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var buffer = new byte[1 << 16];
        var filled = 0;
        while (true)
        {
            var read = await document.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            filled += read;
            var consumed = feed(buffer.AsSpan(0, filled), isFinalBlock: read == 0);
            yield return true;
            if (read == 0 || consumed < 0)
            {
                yield break;
            }

            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }
}
