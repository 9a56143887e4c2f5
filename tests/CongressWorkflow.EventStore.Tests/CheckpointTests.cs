using System.Security.Cryptography;
using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.Integrity;
using CongressWorkflow.Testing;

namespace CongressWorkflow.EventStore.Tests;

/// <summary>
/// What an attacker with SQL access can do that the hash chain alone does not show, each caught against a signed
/// checkpoint taken before it: a changed global position, a whole stream deleted, a tail cut off with the stream row
/// set back, and an event forged with the chain recomputed by the store's own digest function.
/// </summary>
public sealed class verifying_against_signed_checkpoints(EventStoreDatabase db) : StoreTestBase(db), IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private Checkpoints Checkpoints => new(Db.DataSource, _key, Clock);

    private IntegrityVerifier Verifier => new(Db.DataSource);

    public void Dispose() => _key.Dispose();

    /// <summary>Version 2 of the stream gets another name and actor; the chain after it is recomputed with the store's own digest.</summary>
    private async Task ForgeWithRecomputedChainAsync(string stream)
    {
        await Db.ExecuteAsync("UPDATE event_store.events SET data = jsonb_set(data, '{name}', '\"forged\"'), actor_id = 'someone-else' WHERE stream_id = $1 AND stream_version = 2", stream);
        foreach (var version in new[] { 2, 3 })
        {
            await Db.ExecuteAsync("""
                UPDATE event_store.events e SET hash = sha256(p.hash || event_store.event_digest(e.event_id, e.stream_id, e.stream_version,
                    e.event_type, e.schema_version, e.recorded_at, e.actor_id, e.actor_role, e.actor_org, e.correlation_id, e.causation_id,
                    e.headers, e.data))
                FROM event_store.events p WHERE p.stream_id = e.stream_id AND p.stream_version = e.stream_version - 1 AND e.stream_id = $1 AND e.stream_version = $2
                """, stream, version);
        }

        await Db.ExecuteAsync("UPDATE event_store.streams s SET last_hash = e.hash FROM event_store.events e WHERE e.stream_id = s.stream_id AND e.stream_version = 3 AND s.stream_id = $1", stream);
    }

    /// <summary>A checkpoint as it is kept: written head by head into a document, read back from it.</summary>
    private static async Task<SignedCheckpoint> TakeAsync(Checkpoints checkpoints)
    {
        using var document = new MemoryStream();
        var summary = await checkpoints.TakeAsync(document);
        var signed = SignedCheckpoints.Deserialize(System.Text.Encoding.UTF8.GetString(document.ToArray()))!;
        Assert.Equal(summary, new CheckpointSummary(signed.Checkpoint.TakenAt, signed.Checkpoint.HeadPosition, signed.Checkpoint.Streams.Count, signed.Checkpoint.Root));
        return signed;
    }

    /// <summary>The violations the store shows against a checkpoint, sent as the document it is kept as.</summary>
    private async Task<IReadOnlyList<IntegrityViolation>> CompareAsync(SignedCheckpoint checkpoint)
    {
        var comparison = await Checkpoints.CompareAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(SignedCheckpoints.Serialize(checkpoint))), Checkpoints.PublicKey);
        Assert.Null(comparison.Defect);
        return comparison.Violations;
    }

    private async Task<(string A, string B, SignedCheckpoint Checkpoint)> ThreeEventsEachThenACheckpointAsync()
    {
        var a = TestEvents.NewStreamId();
        var b = TestEvents.NewStreamId();
        foreach (var stream in new[] { a, b })
        {
            await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream,
                [TestEvents.Joined("one", 1), TestEvents.Joined("two", 2), TestEvents.Joined("three", 3)], TestEvents.Meta);
        }

        return (a, b, await TakeAsync(Checkpoints));
    }

    [Fact]
    public async Task a_store_that_only_grew_since_the_checkpoint_extends_it()
    {
        var (a, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        await Store.AppendAsync(a, "roster", ExpectedVersion.Exactly(3), [TestEvents.Joined("four", 4)], TestEvents.Meta);
        await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("new", 1)], TestEvents.Meta);

        Assert.Empty(await CompareAsync(checkpoint));
        Assert.Equal(2, checkpoint.Checkpoint.Streams.Count);
        Assert.True(SignedCheckpoints.IsAuthentic(SignedCheckpoints.Deserialize(SignedCheckpoints.Serialize(checkpoint))!, Checkpoints.PublicKey));
    }

    [Fact]
    public async Task a_checkpoint_written_head_by_head_is_the_signed_document_of_its_heads_in_code_point_order()
    {
        // U+E000 comes before U+1F600 by code point (and in PostgreSQL's "C" order), after it in UTF-16 ordinal order.
        foreach (var stream in new[] { "cp-\U0001F600", "cp-\uE000", "cp-a" })
        {
            await Store.AppendAsync(stream, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("one", 1)], TestEvents.Meta);
        }

        var checkpoint = await TakeAsync(Checkpoints);

        Assert.Equal(["cp-a", "cp-\uE000", "cp-\U0001F600"], checkpoint.Checkpoint.Streams.Select(s => s.StreamId));
        Assert.True(SignedCheckpoints.IsAuthentic(checkpoint, Checkpoints.PublicKey));
        Assert.Equal(SignedCheckpoints.Root(checkpoint.Checkpoint.Streams), checkpoint.Checkpoint.Root);
        Assert.Equal(SignedCheckpoints.Serialize(checkpoint), SignedCheckpoints.Serialize(SignedCheckpoints.Deserialize(SignedCheckpoints.Serialize(checkpoint))!));
        Assert.Empty(await CompareAsync(checkpoint));
    }

    [Fact]
    public async Task a_changed_global_position_is_reported_though_the_chain_is_intact()
    {
        var (a, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        await Db.ExecuteAsync("UPDATE event_store.events SET global_position = global_position + 1000 WHERE stream_id = $1 AND stream_version = 3", a);

        Assert.True((await Verifier.VerifyAllAsync()).IsIntact);
        var violation = Assert.Single(await CompareAsync(checkpoint));
        Assert.Equal(a, violation.StreamId);
        Assert.Contains("moved from global position", violation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_whole_stream_deleted_is_reported()
    {
        var (_, b, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        await Db.ExecuteAsync("DELETE FROM event_store.events WHERE stream_id = $1", b);
        await Db.ExecuteAsync("DELETE FROM event_store.streams WHERE stream_id = $1", b);

        Assert.True((await Verifier.VerifyAllAsync()).IsIntact);
        var violation = Assert.Single(await CompareAsync(checkpoint));
        Assert.Equal(b, violation.StreamId);
        Assert.Contains("the stream is gone", violation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_tail_cut_off_with_the_stream_row_set_back_is_reported()
    {
        var (a, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        await Db.ExecuteAsync("DELETE FROM event_store.events WHERE stream_id = $1 AND stream_version = 3", a);
        await Db.ExecuteAsync("""
            UPDATE event_store.streams s SET version = 2, last_hash = e.hash
            FROM event_store.events e WHERE e.stream_id = s.stream_id AND e.stream_version = 2 AND s.stream_id = $1
            """, a);

        Assert.True((await Verifier.VerifyAllAsync()).IsIntact);
        var violation = Assert.Single(await CompareAsync(checkpoint));
        Assert.Contains("cut back to version 2", violation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_forged_event_with_the_chain_recomputed_by_the_stores_own_digest_is_reported()
    {
        var (a, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        await ForgeWithRecomputedChainAsync(a);

        Assert.True((await Verifier.VerifyAllAsync()).IsIntact);
        var violation = Assert.Single(await CompareAsync(checkpoint));
        Assert.Contains("rewritten", violation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_audit_bundle_verifies_offline_from_genesis_or_from_an_anchor_and_survives_a_round_trip_through_json()
    {
        var (a, b, _) = await ThreeEventsEachThenACheckpointAsync();
        Clock.Advance(TimeSpan.FromDays(2));
        await Store.AppendAsync(a, "roster", ExpectedVersion.Exactly(3), [TestEvents.Joined("four", 4)], TestEvents.Meta);
        var checkpoint = await TakeAsync(Checkpoints);
        await Store.AppendAsync(a, "roster", ExpectedVersion.Exactly(4), [TestEvents.Joined("after the checkpoint", 5)], TestEvents.Meta);

        var whole = await ExportAsync(checkpoint, [a, b, "no-such-stream"], null);
        var recent = await ExportAsync(checkpoint, [a, b], DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime));

        Assert.True(AuditBundles.Verify(whole, Checkpoints.PublicKey).IsIntact);
        Assert.Equal((4, 3), (Of(whole, a).Events.Count, Of(whole, b).Events.Count));
        var partial = AuditBundles.Verify(recent, Checkpoints.PublicKey);
        Assert.True(partial.IsIntact, string.Join("; ", partial.Violations));
        Assert.Equal(((3L, 1), (3L, 0)), ((Of(recent, a).AnchorVersion, Of(recent, a).Events.Count), (Of(recent, b).AnchorVersion, Of(recent, b).Events.Count)));

        var forgedAnchor = recent with { Streams = [Of(recent, a) with { AnchorHash = Of(whole, a).Events[1].Hash }, Of(recent, b)] };
        var report = AuditBundles.Verify(forgedAnchor, Checkpoints.PublicKey);
        Assert.False(report.IsIntact);
        Assert.Equal((a, 4L), (report.FirstViolation!.StreamId, report.FirstViolation.StreamVersion));
    }

    [Fact]
    public async Task a_bundle_naming_a_stream_twice_is_reported_not_a_crash()
    {
        var (a, b, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        var bundle = await ExportAsync(checkpoint, [a, b], null);
        var twiceInCheckpoint = bundle with
        {
            Checkpoint = bundle.Checkpoint! with
            {
                Checkpoint = bundle.Checkpoint.Checkpoint with { Streams = [.. bundle.Checkpoint.Checkpoint.Streams, bundle.Checkpoint.Checkpoint.Streams[0]] },
            },
        };
        var twiceInBundle = bundle with { Streams = [.. bundle.Streams, bundle.Streams[0]] };

        var checkpointReport = AuditBundles.Verify(twiceInCheckpoint, Checkpoints.PublicKey);
        var bundleReport = AuditBundles.Verify(twiceInBundle, Checkpoints.PublicKey);

        Assert.False(checkpointReport.IsIntact);
        Assert.Contains(checkpointReport.Violations, v => v.Reason == "the checkpoint names the stream twice");
        Assert.False(bundleReport.IsIntact);
        Assert.Equal("the stream appears twice in the bundle", Assert.Single(bundleReport.Violations).Reason);
        Assert.Equal(2, bundleReport.Streams);
    }

    [Fact]
    public async Task a_bundle_exported_after_an_edit_with_a_recomputed_chain_does_not_reach_the_signed_head()
    {
        var (a, b, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        await ForgeWithRecomputedChainAsync(a);

        var report = AuditBundles.Verify(await ExportAsync(checkpoint, [a, b], null), Checkpoints.PublicKey);

        var violation = Assert.Single(report.Violations);
        Assert.Equal(a, violation.StreamId);
        Assert.Contains("signed checkpoint has version 3", violation.Reason, StringComparison.Ordinal);
    }

    private static BundledStream Of(AuditBundle bundle, string streamId) => bundle.Streams.Single(s => s.StreamId == streamId);

    private async Task<AuditBundle> ExportAsync(SignedCheckpoint checkpoint, string[] streams, DateOnly? from)
    {
        using var written = new MemoryStream();
        await AuditBundleExport.WriteAsync(written, Db.DataSource, checkpoint, "root", streams, from, null, Clock.GetUtcNow());
        return System.Text.Json.JsonSerializer.Deserialize<AuditBundle>(written.ToArray(), AuditBundle.Json)!;
    }

    [Fact]
    public async Task a_stream_put_into_the_past_is_reported()
    {
        var (_, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        var planted = TestEvents.NewStreamId();
        await Store.AppendAsync(planted, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("planted", 1)], TestEvents.Meta);
        await Db.ExecuteAsync("UPDATE event_store.events SET global_position = -global_position WHERE stream_id = $1", planted);

        var violation = Assert.Single(await CompareAsync(checkpoint));

        Assert.Equal(planted, violation.StreamId);
        Assert.Contains("but is not in the signed checkpoint", violation.Reason, StringComparison.Ordinal);
    }

    /// <summary>A document that is not a checkpoint says why, and nothing is compared.</summary>
    [Fact]
    public async Task a_document_that_is_not_a_checkpoint_is_compared_with_nothing_and_says_why()
    {
        var comparison = await Checkpoints.CompareAsync(new MemoryStream("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [{"streamId": "s", "version": 1, "globalPosition": 1}], "root": "r"}}"""u8.ToArray()),
            Checkpoints.PublicKey);

        Assert.Equal(new CheckpointDefect(true, "checkpoint.streams[0].hash is required"), comparison.Defect);
        Assert.Empty(comparison.Violations);
    }

    /// <summary>A bundle pinned by the checkpoint's Merkle root carries its own streams' heads with their proofs, not the checkpoint's every head.</summary>
    [Fact]
    public async Task a_pinned_bundle_verifies_offline_with_its_streams_proofs_and_a_forged_head_or_proof_is_reported()
    {
        var (a, b, _) = await ThreeEventsEachThenACheckpointAsync();
        foreach (var other in Enumerable.Range(0, 6))
        {
            await Store.AppendAsync(TestEvents.NewStreamId(), "roster", ExpectedVersion.NoStream, [TestEvents.Joined("other", other)], TestEvents.Meta);
        }

        using var document = new MemoryStream();
        await Checkpoints.TakeAsync(document);
        using var written = new MemoryStream();
        Assert.True(await AuditBundleExport.WritePinnedAsync(written, Db.DataSource, new MemoryStream(document.ToArray()), "root", [a, b], null,
            null, Clock.GetUtcNow()));
        var bundle = System.Text.Json.JsonSerializer.Deserialize<AuditBundle>(written.ToArray(), AuditBundle.Json)!;
        var headOfA = Of(bundle, a).Head!;
        var forgedHead = bundle with { Streams = [.. bundle.Streams.Select(s => s.StreamId == a ? s with { Head = headOfA with { GlobalPosition = headOfA.GlobalPosition + 1 } } : s)] };
        var forgedProof = bundle with
        {
            Streams = [.. bundle.Streams.Select(s => s.StreamId == a ? s with { Head = headOfA with { Proof = [.. headOfA.Proof.Skip(1).Prepend(new string('0', 64))] } } : s)],
        };
        var otherPlace = bundle with { Streams = [.. bundle.Streams.Select(s => s.StreamId == a ? s with { Head = headOfA with { Index = headOfA.Index ^ 1 } } : s)] };

        Assert.Equal(AuditBundle.PinnedFormat, bundle.Format);
        Assert.Null(bundle.Checkpoint);
        Assert.Equal(2, bundle.Streams.Count);
        Assert.True(bundle.Pin!.Statement.Streams >= 8);
        Assert.Equal(3, headOfA.Version);
        Assert.True(AuditBundles.Verify(bundle, Checkpoints.PublicKey).IsIntact);
        foreach (var forged in new[] { forgedHead, forgedProof, otherPlace })
        {
            var report = AuditBundles.Verify(forged, Checkpoints.PublicKey);
            Assert.False(report.IsIntact);
            var violation = Assert.Single(report.Violations);
            Assert.Equal(a, violation.StreamId);
            Assert.Contains("its proof does not lead to the signed Merkle root", violation.Reason, StringComparison.Ordinal);
        }

        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Contains("not signed by the trusted key", Assert.Single(AuditBundles.Verify(bundle, SignedCheckpoints.PublicKeyOf(otherKey)).Violations).Reason,
            StringComparison.Ordinal);
    }

    /// <summary>A bundle is written a stream at a time as the events come, each flushed to the output (asynchronously: an HTTP response refuses anything else), never held whole.</summary>
    [Fact]
    public async Task a_bundle_is_written_to_its_output_a_stream_at_a_time()
    {
        var (a, b, _) = await ThreeEventsEachThenACheckpointAsync();
        var c = TestEvents.NewStreamId();
        await Store.AppendAsync(c, "roster", ExpectedVersion.NoStream, [TestEvents.Joined("c", 1)], TestEvents.Meta);
        using var document = new MemoryStream();
        await Checkpoints.TakeAsync(document);
        using var output = new CountingStream();

        await AuditBundleExport.WritePinnedAsync(output, Db.DataSource, new MemoryStream(document.ToArray()), "root", [a, b, c], null, null,
            Clock.GetUtcNow());

        var bundle = System.Text.Json.JsonSerializer.Deserialize<AuditBundle>(output.ToArray(), AuditBundle.Json)!;
        Assert.Equal(new[] { a, b, c }.Order(StringComparer.Ordinal), bundle.Streams.Select(s => s.StreamId));
        Assert.True(AuditBundles.Verify(bundle, Checkpoints.PublicKey).IsIntact);
        Assert.True(output.Writes >= 4, $"{output.Writes} writes for three streams");
    }

    /// <summary>
    /// An offline check reads the bundle as it streams (a whole tree's is gigabytes at national scale): each stream is
    /// handed over as soon as it is whole, long before the document ends, and the report is the whole bundle's.
    /// </summary>
    [Fact]
    public async Task a_bundle_is_checked_as_it_streams_a_stream_at_a_time_with_the_report_of_the_whole_bundle()
    {
        var (a, b, _) = await ThreeEventsEachThenACheckpointAsync();
        var others = new List<string>();
        foreach (var other in Enumerable.Range(0, 30))
        {
            others.Add(TestEvents.NewStreamId());
            await Store.AppendAsync(others[^1], "roster", ExpectedVersion.NoStream, [TestEvents.Joined("other", other), TestEvents.Joined("again", other)], TestEvents.Meta);
        }

        var bytes = await PinnedBundleAsync([a, b, .. others]);
        var bundle = System.Text.Json.JsonSerializer.Deserialize<AuditBundle>(bytes, AuditBundle.Json)!;
        var middle = bundle.Streams[bundle.Streams.Count / 2];
        var edited = bundle with
        {
            Streams = [.. bundle.Streams.Select(s => s == middle ? s with { Events = [s.Events[0] with { ActorId = "someone-else" }, .. s.Events.Skip(1)] } : s)],
        };

        var document = new Trickle(bytes);
        var reading = new AuditBundleReading(document);
        var handedOverAt = new List<(string StreamId, long Read)>();
        await foreach (var stream in reading.StreamsAsync())
        {
            handedOverAt.Add((stream.StreamId, document.Position));
        }

        var (read, intact) = await AuditBundles.VerifyAsync(new Trickle(bytes), Checkpoints.PublicKey);
        var (_, broken) = await AuditBundles.VerifyAsync(new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(edited, AuditBundle.Json)), Checkpoints.PublicKey);

        Assert.Equal(bundle.Streams.Select(s => s.StreamId), handedOverAt.Select(h => h.StreamId));
        Assert.True(handedOverAt[0].Read < bytes.Length / 10, $"the first stream came after {handedOverAt[0].Read} of {bytes.Length} bytes");
        Assert.Equal(bundle.Pin, reading.Bundle!.Pin);
        Assert.Empty(reading.Bundle.Streams);
        Assert.Equal(bundle with { Streams = [] }, read with { Streams = [] });
        Assert.True(intact.IsIntact);
        Assert.Equal((32, 66L), (intact.Streams, intact.Events));
        Assert.False(broken.IsIntact);
        Assert.Equal(AuditBundles.Verify(edited, Checkpoints.PublicKey).Violations, broken.Violations);
        Assert.Equal(middle.StreamId, Assert.Single(broken.Violations).StreamId);
    }

    /// <summary>A document read as a bundle that is not one says why, whatever is wrong with it.</summary>
    [Fact]
    public async Task a_document_that_is_not_a_bundle_as_exported_is_refused_with_what_is_wrong()
    {
        var (a, _, _) = await ThreeEventsEachThenACheckpointAsync();
        var bytes = await PinnedBundleAsync([a]);
        var whole = System.Text.Encoding.UTF8.GetString(bytes);
        var pinLast = System.Text.Json.Nodes.JsonNode.Parse(bytes)!.AsObject();
        var pin = pinLast["pin"]!.DeepClone();
        pinLast.Remove("pin");
        pinLast["pin"] = pin;

        async Task<string> Refusal(string text) =>
            (await Assert.ThrowsAnyAsync<System.Text.Json.JsonException>(() =>
                AuditBundles.VerifyAsync(new Trickle(System.Text.Encoding.UTF8.GetBytes(text)), Checkpoints.PublicKey))).Message;

        Assert.Contains("a bundle is a JSON object", await Refusal("[]"), StringComparison.Ordinal);
        Assert.Contains("streams are not an array", await Refusal("""{"streams": {}}"""), StringComparison.Ordinal);
        Assert.Contains("'pin' after its streams", await Refusal(pinLast.ToJsonString()), StringComparison.Ordinal);
        Assert.Contains("not whole JSON", await Refusal(whole.TrimEnd()[..^1]), StringComparison.Ordinal);
        Assert.Contains("not whole JSON", await Refusal(whole[..(whole.Length - 40)]), StringComparison.Ordinal);
        await Refusal(whole + " {}");
        await Refusal(whole.Replace("\"format\"", "\"formats\"", StringComparison.Ordinal));
        Assert.True((await AuditBundles.VerifyAsync(new Trickle(bytes), Checkpoints.PublicKey)).Report.IsIntact);
    }

    private async Task<byte[]> PinnedBundleAsync(IReadOnlyCollection<string> streams)
    {
        using var document = new MemoryStream();
        await Checkpoints.TakeAsync(document);
        using var written = new MemoryStream();
        Assert.True(await AuditBundleExport.WritePinnedAsync(written, Db.DataSource, new MemoryStream(document.ToArray()), "root", streams,
            null, null, Clock.GetUtcNow()));
        return written.ToArray();
    }

    /// <summary>Counts the writes it is given, and refuses synchronous ones as an HTTP response does.</summary>
    private sealed class CountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        private bool _inAsyncWrite;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            _inAsyncWrite = true;
            base.Write(buffer.Span);
            _inAsyncWrite = false;
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (!_inAsyncWrite)
            {
                throw new InvalidOperationException("Synchronous operations are disallowed.");
            }

            base.Write(buffer, offset, count);
        }
    }

    /// <summary>A checkpoint taken before pins (none in its document) gives no pinned bundle, and its whole-checkpoint bundle still verifies.</summary>
    [Fact]
    public async Task a_checkpoint_without_a_pin_still_reads_as_authentic_and_bundles_whole()
    {
        var (a, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        var withoutPin = checkpoint with { Pin = null };
        var document = System.Text.Encoding.UTF8.GetBytes(SignedCheckpoints.Serialize(withoutPin));

        using var nothing = new MemoryStream();
        var pinned = await AuditBundleExport.WritePinnedAsync(nothing, Db.DataSource, new MemoryStream(document), "root", [a], null, null,
            Clock.GetUtcNow());
        var whole = await ExportAsync(withoutPin, [a], null);

        Assert.NotNull(checkpoint.Pin);
        Assert.False(pinned);
        Assert.Equal(0, nothing.Length);
        Assert.Empty(await CompareAsync(withoutPin));
        Assert.True(AuditBundles.Verify(whole, Checkpoints.PublicKey).IsIntact);
    }

    [Fact]
    public async Task a_checkpoint_altered_or_signed_with_another_key_is_not_trusted()
    {
        var (_, _, checkpoint) = await ThreeEventsEachThenACheckpointAsync();
        var altered = checkpoint with { Checkpoint = checkpoint.Checkpoint with { Streams = checkpoint.Checkpoint.Streams.Skip(1).ToList() } };
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var foreign = await TakeAsync(new Checkpoints(Db.DataSource, otherKey, Clock));

        Assert.Contains("not signed", Assert.Single(await CompareAsync(altered)).Reason, StringComparison.Ordinal);
        Assert.Contains("not signed", Assert.Single(await CompareAsync(foreign)).Reason, StringComparison.Ordinal);
    }
}

/// <summary>
/// The listing and the newest checkpoint read what a checkpoint says of itself as the file streams by, never the whole
/// document (a national store's is 215 MB, about a gigabyte deserialized).
/// </summary>
public sealed class reading_what_a_checkpoint_says_of_itself
{
    /// <summary>A document of a few hundred kilobytes, its stream ids long and not all ASCII, so tokens and characters fall across chunks.</summary>
    private static async Task<(byte[] Document, CheckpointSummary Written)> WriteAsync(int heads)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var document = new MemoryStream();
        var written = await SignedCheckpoints.WriteAsync(document, new DateTimeOffset(2026, 11, 24, 22, 0, 0, TimeSpan.Zero), heads * 3L, Heads(), key);
        return (document.ToArray(), written);

        async IAsyncEnumerable<StreamHead> Heads()
        {
            foreach (var i in Enumerable.Range(0, heads))
            {
                await Task.Yield();
                yield return new StreamHead($"congress-đại-hội-{i:D6}-{new string('x', i % 97)}-\U0001F600", i + 1, i * 3L + 1, Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))));
            }
        }
    }

    [Fact]
    public async Task the_summary_read_as_the_document_streams_is_the_one_it_was_written_with_however_the_bytes_arrive()
    {
        var (document, written) = await WriteAsync(3_000);

        Assert.True(document.Length > 4 * (1 << 16), $"only {document.Length} bytes");
        Assert.Equal(written, await SignedCheckpoints.ReadSummaryAsync(new MemoryStream(document)));
        Assert.Equal(written, await SignedCheckpoints.ReadSummaryAsync(new Trickle(document)));
        Assert.Equal(3_000, written.Streams);
    }

    [Fact]
    public async Task a_document_cut_short_or_without_its_signature_or_not_json_has_no_summary()
    {
        var (document, _) = await WriteAsync(500);
        var text = System.Text.Encoding.UTF8.GetString(document);
        var unsigned = text[..text.IndexOf("\"algorithm\"", StringComparison.Ordinal)].TrimEnd().TrimEnd(',') + "}";

        Assert.Null(await SignedCheckpoints.ReadSummaryAsync(new MemoryStream(document[..(document.Length / 2)])));
        Assert.Null(await SignedCheckpoints.ReadSummaryAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(unsigned))));
        Assert.Null(await SignedCheckpoints.ReadSummaryAsync(new MemoryStream("not a checkpoint"u8.ToArray())));
        Assert.Null(await SignedCheckpoints.ReadSummaryAsync(new MemoryStream("""{"checkpoint": {"takenAt": "yesterday", "headPosition": 1, "streams": [], "root": "r"}, "signature": "s"}"""u8.ToArray())));
    }

    /// <summary>A reading for the heads alone (a bundle's export) hands over the same heads and pin as a checked one, and is never authentic; one without a key hands over none.</summary>
    [Fact]
    public async Task the_heads_alone_are_the_checked_readings_heads_and_prove_nothing()
    {
        var document = await SignedAsync(Head("a", 1), Head("b", 2), Head("c", 3));
        var (checkedReading, checkedHeads) = await ReadAsync(new Trickle(document), Key);
        var headsOnly = CheckpointReading.HeadsOnly(new Trickle(document));
        var heads = new List<StreamHead>();
        await foreach (var head in headsOnly.HeadsAsync())
        {
            heads.Add(head);
        }

        var summaryOnly = new CheckpointReading(new MemoryStream(document), trustedPublicKey: null);
        var handedOver = 0;
        await foreach (var _ in summaryOnly.HeadsAsync())
        {
            handedOver++;
        }

        Assert.True(checkedReading.IsAuthentic);
        Assert.Equal(checkedHeads, heads);
        Assert.Equal(3, heads.Count);
        Assert.Equal(checkedReading.Pin, headsOnly.Pin);
        Assert.Equal(checkedReading.Summary, headsOnly.Summary);
        Assert.False(headsOnly.IsAuthentic);
        Assert.Equal(0, handedOver);
        Assert.Equal(3, summaryOnly.Summary?.Streams);
    }

    private static readonly ECDsa SigningKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static readonly string Key = SignedCheckpoints.PublicKeyOf(SigningKey);

    private static async Task<(CheckpointReading Reading, List<StreamHead> Heads)> ReadAsync(Stream document, string key)
    {
        var reading = new CheckpointReading(document, key);
        var heads = new List<StreamHead>();
        await foreach (var head in reading.HeadsAsync())
        {
            heads.Add(head);
        }

        return (reading, heads);
    }

    private static async Task<byte[]> SignedAsync(params StreamHead[] heads)
    {
        using var document = new MemoryStream();
        await SignedCheckpoints.WriteAsync(document, new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero), 9, heads.ToAsyncEnumerable(), SigningKey);
        return document.ToArray();
    }

    private static StreamHead Head(string streamId, long version) => new(streamId, version, version * 3, Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(version))));

    /// <summary>
    /// Read as it streams, the document hands over the heads it was written with, in order, and its signature is checked
    /// without the whole document: the canonical JSON is rebuilt head by head (3,000 heads, some beyond the BMP, seven
    /// bytes a read).
    /// </summary>
    [Fact]
    public async Task read_as_it_streams_a_checkpoint_gives_its_heads_and_proves_who_signed_it()
    {
        using var document = new MemoryStream();
        var heads = Enumerable.Range(1, 3_000).Select(i => Head($"congress-đại-hội-{i:D6}-{new string('x', i % 97)}-\U0001F600", i)).ToArray();
        var written = await SignedCheckpoints.WriteAsync(document, new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero), 9_000, heads.ToAsyncEnumerable(), SigningKey);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var (trusted, read) = await ReadAsync(new Trickle(document.ToArray()), Key);
        var (foreign, _) = await ReadAsync(new MemoryStream(document.ToArray()), SignedCheckpoints.PublicKeyOf(otherKey));

        Assert.Equal(heads, read);
        Assert.Equal(written, trusted.Summary);
        Assert.True(trusted.IsAuthentic);
        Assert.Equal(written, foreign.Summary);
        Assert.False(foreign.IsAuthentic);
        Assert.True(SignedCheckpoints.IsAuthentic(SignedCheckpoints.Deserialize(System.Text.Encoding.UTF8.GetString(document.ToArray()))!, Key));
    }

    /// <summary>Whatever is changed in a signed document, the reading says it is not authentic (a head, the root, the signature, the order of the parts).</summary>
    [Theory]
    [InlineData("\"version\": 2", "\"version\": 20")]
    [InlineData("\"streamId\": \"b\"", "\"streamId\": \"a\"")]
    [InlineData("\"headPosition\": 9", "\"headPosition\": 8")]
    [InlineData("\"algorithm\": \"ES256\"", "\"algorithm\": \"ES384\"")]
    public async Task a_signed_document_changed_anywhere_is_not_authentic(string original, string changed)
    {
        var text = System.Text.Encoding.UTF8.GetString(await SignedAsync(Head("a", 1), Head("b", 2)));
        Assert.Contains(original, text, StringComparison.Ordinal);

        var (intact, _) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), Key);
        var (altered, _) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text.Replace(original, changed, StringComparison.Ordinal))), Key);

        Assert.True(intact.IsAuthentic);
        Assert.NotNull(altered.Summary);
        Assert.False(altered.IsAuthentic);
    }

    /// <summary>The heads must come after when the checkpoint was taken, as written: moved before it the document still reads, but is not trusted.</summary>
    [Fact]
    public async Task a_signed_document_with_its_parts_in_another_order_reads_but_is_not_authentic()
    {
        var signed = SignedCheckpoints.Deserialize(System.Text.Encoding.UTF8.GetString(await SignedAsync(Head("a", 1), Head("b", 2))))!;
        var reordered = System.Text.Json.JsonSerializer.Serialize(new
        {
            checkpoint = new { streams = signed.Checkpoint.Streams, takenAt = signed.Checkpoint.TakenAt, headPosition = signed.Checkpoint.HeadPosition, root = signed.Checkpoint.Root },
            algorithm = signed.Algorithm,
            publicKey = signed.PublicKey,
            signature = signed.Signature,
        }, System.Text.Json.JsonSerializerOptions.Web);

        var (reading, heads) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(reordered)), Key);

        Assert.Equal(2, heads.Count);
        Assert.Equal(2, reading.Summary?.Streams);
        Assert.False(reading.IsAuthentic);
    }

    [Theory]
    [InlineData("", false, "the document is not whole JSON in UTF-8")]
    [InlineData("[]", false, "a checkpoint is a JSON object")]
    [InlineData("{}", true, "checkpoint is required")]
    [InlineData("""{"checkpoint": null}""", true, "checkpoint is required")]
    [InlineData("""{"checkpoint": "x"}""", false, "checkpoint must be an object")]
    [InlineData("""{"checkpoint": {"takenAt": "yesterday"}}""", false, "checkpoint.takenAt must be a date and time")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [{"streamId": "s", "version": "one"}]}}""", false,
        "checkpoint.streams[0].version must be a whole number")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [{"streamId": "s", "version": 1, "globalPosition": 1, "hash": "h"}, 7]}}""", false,
        "checkpoint.streams[1] must be an object")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "headPosition": 2}}""", false, "checkpoint.headPosition appears twice")]
    [InlineData("""{"checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [], "root": "r"}, "algorithm": "ES256", "publicKey": "k"}""", true,
        "signature is required")]
    [InlineData("""{"extra": {"takenAt": 5, "streams": 6}, "checkpoint": {"takenAt": "2020-01-01T00:00:00Z", "headPosition": 1, "streams": [], "root": "r", "note": [1, {"a": 2}]}, "algorithm": "ES256", "publicKey": "k", "signature": "s", "headPosition": 3}""",
        null, null)]
    public async Task a_document_that_is_not_a_whole_checkpoint_says_why(string document, bool? missing, string? detail)
    {
        var (reading, _) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(document)), Key);

        if (detail is null)
        {
            Assert.Null(reading.Defect);
            Assert.Equal(new CheckpointSummary(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), 1, 0, "r"), reading.Summary);
            Assert.False(reading.IsAuthentic);
            return;
        }

        Assert.Null(reading.Summary);
        Assert.Equal(missing, reading.Defect?.IsMissing);
        Assert.StartsWith(detail, reading.Defect?.Detail, StringComparison.Ordinal);
    }

    /// <summary>The root by RFC 6962's definition, computed here apart: MTH(D) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two below n.</summary>
    private static byte[] ReferenceRoot(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 1)
        {
            return leaves[0];
        }

        var k = 1;
        while (k * 2 < leaves.Count)
        {
            k *= 2;
        }

        return SHA256.HashData([1, .. ReferenceRoot([.. leaves.Take(k)]), .. ReferenceRoot([.. leaves.Skip(k)])]);
    }

    [Fact]
    public void the_merkle_root_is_rfc_6962s_and_every_leaf_is_proven_at_its_place_only()
    {
        foreach (var size in Enumerable.Range(1, 37))
        {
            var leaves = Enumerable.Range(0, size).Select(i => MerkleTree.Leaf(Head($"s-{i:D3}", i + 1))).ToList();
            var builder = new MerkleTree.Builder();
            leaves.ForEach(builder.Add);
            var root = builder.Root();
            var proofs = MerkleTree.Proofs(leaves, [.. Enumerable.Range(0, size).Select(i => (long)i)]);

            Assert.Equal(ReferenceRoot(leaves), root);
            var first = Head("s-000", 1);
            Assert.Equal(SHA256.HashData([0, .. System.Text.Encoding.UTF8.GetBytes($"s-000\n1\n3\n{first.Hash}\n")]), leaves[0]);
            foreach (var index in Enumerable.Range(0, size))
            {
                Assert.Equal(root, MerkleTree.RootFrom(leaves[index], index, size, proofs[index]));
                if (size > 1)
                {
                    Assert.NotEqual(root, MerkleTree.RootFrom(leaves[index], (index + 1) % size, size, proofs[index]));
                    Assert.NotEqual(root, MerkleTree.RootFrom(leaves[(index + 1) % size], index, size, proofs[index]));
                }
            }

            Assert.Null(MerkleTree.RootFrom(leaves[0], size, size, proofs[0]));
        }
    }

    /// <summary>A checkpoint's pin is read with it: changed, the document is not authentic; cut short, it is not a checkpoint.</summary>
    [Fact]
    public async Task a_checkpoints_pin_is_checked_with_it()
    {
        var text = System.Text.Encoding.UTF8.GetString(await SignedAsync(Head("a", 1), Head("b", 2), Head("c", 3)));
        var signed = SignedCheckpoints.Deserialize(text)!;
        var merkleRoot = signed.Pin!.MerkleRoot;

        var (intact, _) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), Key);
        var (otherRoot, _) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text.Replace(merkleRoot, new string('0', 64), StringComparison.Ordinal))), Key);
        var (withoutSignature, _) = await ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(
            SignedCheckpoints.Serialize(signed with { Pin = signed.Pin with { Signature = null! } }))), Key);

        Assert.True(intact.IsAuthentic);
        Assert.Equal(new CheckpointPin(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero), 9, 3, merkleRoot), intact.Pin?.Statement);
        Assert.True(SignedCheckpoints.IsAuthentic(intact.Pin!, Key));
        Assert.True(SignedCheckpoints.IsAuthentic(signed, Key));
        Assert.False(SignedCheckpoints.IsAuthentic(signed with { Pin = signed.Pin with { MerkleRoot = new string('0', 64) } }, Key));
        Assert.NotNull(otherRoot.Summary);
        Assert.False(otherRoot.IsAuthentic);
        Assert.Equal(new CheckpointDefect(true, "pin.signature is required"), withoutSignature.Defect);
    }
}

/// <summary>Hands over at most seven bytes a read.</summary>
internal sealed class Trickle(byte[] bytes) : MemoryStream(bytes)
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        base.ReadAsync(buffer[..Math.Min(buffer.Length, 7)], cancellationToken);
}
