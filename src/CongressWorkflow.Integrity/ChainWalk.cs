namespace CongressWorkflow.Integrity;

/// <summary>
/// Walks one stream's events in version order from a known link (the genesis, or an anchor before the first event
/// at hand), recomputing the chain, and at the end compares where it arrived with the head the stream should have.
/// Remembers only the first break. Used by the store's verifier and by the offline audit bundle check.
/// </summary>
public sealed class ChainWalk(string streamId, long startVersion, byte[] startHash, long headVersion, byte[] headHash, string headSource)
{
    private byte[] _chain = startHash;
    private long _expectedVersion = startVersion + 1;
    private bool _broken;

    public string StreamId => streamId;

    public bool IsBroken => _broken;

    public void Step(long version, long? position, ReadOnlySpan<byte> storedHash, ReadOnlySpan<byte> digest, List<IntegrityViolation> violations)
    {
        if (_broken)
        {
            return;
        }

        if (version != _expectedVersion)
        {
            Break(violations, new IntegrityViolation(streamId, version, position,
                $"expected version {_expectedVersion} next but found {version}: events are missing or renumbered"));
            return;
        }

        var computed = EventDigest.Chain(_chain, digest);
        if (!computed.AsSpan().SequenceEqual(storedHash))
        {
            Break(violations, new IntegrityViolation(streamId, version, position,
                "stored hash does not match the event's content and its predecessor's hash"));
            return;
        }

        _chain = computed;
        _expectedVersion++;
    }

    public void Finish(List<IntegrityViolation> violations)
    {
        if (_broken)
        {
            return;
        }

        var lastVersion = _expectedVersion - 1;
        if (lastVersion != headVersion || !_chain.AsSpan().SequenceEqual(headHash))
        {
            Break(violations, new IntegrityViolation(streamId, lastVersion + 1, null,
                $"{headSource} version {headVersion} but its events end at version {lastVersion} or its head hash differs"));
        }
    }

    private void Break(List<IntegrityViolation> violations, IntegrityViolation violation)
    {
        _broken = true;
        violations.Add(violation);
    }
}
