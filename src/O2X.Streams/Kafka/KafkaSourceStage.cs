using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using O2X.Streams.Connectors;

namespace O2X.Streams.Kafka;

/// <summary>The committable Kafka source (see <see cref="Dsl.KafkaSource.Committable"/>).</summary>
internal sealed class KafkaSourceStage(KafkaConsumerSettings settings)
    : ReconnectingSourceStage<KafkaRecord>("kafka:" + settings.GroupId + ":" + string.Join(",", settings.Topics), settings.Reconnect)
{
    protected override Task<IConsumerSession> OpenAsync(IConsumerSessionEvents<KafkaRecord> events, CancellationToken cancellation)
    {
        Librdkafka.EnsureLoaded();
        return Task.FromResult<IConsumerSession>(new KafkaConsumerSession(settings, events));
    }
}

/// <summary>
/// One Kafka consumer and the thread that polls it. The consumer is used from that thread only: settlements
/// from the stream arrive as commands and are applied between polls (offset bookkeeping, commits, seeks,
/// pause and resume). A partition is paused while <see cref="KafkaConsumerSettings.MaxInFlightPerPartition"/>
/// of its records are unsettled.
/// </summary>
internal sealed class KafkaConsumerSession : IConsumerSession
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan HoldBeforePause = TimeSpan.FromMilliseconds(500);

    private readonly KafkaConsumerSettings _settings;
    private readonly IConsumerSessionEvents<KafkaRecord> _events;
    private readonly ConcurrentQueue<Settlement> _settlements = new();
    private readonly ManualResetEventSlim _settled = new(false);
    private readonly Dictionary<TopicPartition, PartitionState> _partitions = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private volatile bool _stopRequested;
    private int _outstanding;
    private bool _degraded;
    private DateTime _lastCommit = DateTime.UtcNow;

    public KafkaConsumerSession(KafkaConsumerSettings settings, IConsumerSessionEvents<KafkaRecord> events)
    {
        _settings = settings;
        _events = events;
        _thread = new Thread(Run) { IsBackground = true, Name = "kafka-consumer:" + settings.GroupId };
        _thread.Start();
    }

    public int Outstanding => Volatile.Read(ref _outstanding);

    public ValueTask DisposeAsync()
    {
        _stopRequested = true;
        _settled.Set();
        return new ValueTask(_stopped.Task);
    }

    private void Run()
    {
        try
        {
            using var consumer = new ConsumerBuilder<string?, byte[]?>(_settings.ToConfig())
                .SetKeyDeserializer(NullableUtf8.Instance)
                .SetErrorHandler((_, error) => OnError(error))
                .SetPartitionsAssignedHandler((_, assigned) =>
                {
                    foreach (var tp in assigned) _partitions[tp] = new PartitionState(tp);
                })
                .SetPartitionsRevokedHandler((c, revoked) => LetGo(c, revoked.Select(r => r.TopicPartition).ToList(), commit: true))
                .SetPartitionsLostHandler((c, lost) => LetGo(c, lost.Select(r => r.TopicPartition).ToList(), commit: false))
                .Build();
            consumer.Subscribe(_settings.Topics);
            while (!_stopRequested)
            {
                ApplySettlements(consumer);
                CommitIfDue(consumer, force: false);
                var timeout = PollTimeout;
                if (HoldOrPause(consumer)) continue;
                if (_partitions.Count > 0 && AllPaused())
                {
                    // Nothing to fetch until records are settled: wake on the first settlement instead of sleeping
                    // through a poll, then poll without waiting (rebalance callbacks are served from Consume).
                    WaitForSettlement(PollTimeout);
                    ApplySettlements(consumer);
                    timeout = TimeSpan.Zero;
                }

                ConsumeResult<string?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(timeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    // E.g. the topic does not exist (yet): reported, and polling goes on.
                    Degrade(ex.Error.Reason);
                    continue;
                }

                if (result?.Message is null) continue;
                Recover();
                Deliver(consumer, result);
            }

            ApplySettlements(consumer);
            CommitIfDue(consumer, force: true);
            consumer.Close(); // leaves the group; the revoke handler commits what is left
        }
        catch (Exception ex)
        {
            // Fatal: the stage opens a new consumer after a backoff; what was not committed is consumed again.
            foreach (var state in _partitions.Values) state.Revoke();
            _events.Lost(ex.Message);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void Deliver(IConsumer<string?, byte[]?> consumer, ConsumeResult<string?, byte[]?> result)
    {
        if (!_partitions.TryGetValue(result.TopicPartition, out var state))
        {
            // Not (or no longer) assigned to us: not ours to hand out.
            return;
        }

        state.Offsets.Delivered(result.Offset.Value);
        Interlocked.Increment(ref _outstanding);
        if (!state.Paused && state.FullSince is null && state.Offsets.InFlight >= _settings.MaxInFlightPerPartition)
            state.FullSince = DateTime.UtcNow;

        var message = result.Message;
        Dictionary<string, string>? headers = null;
        if (message.Headers is { Count: > 0 })
        {
            headers = new Dictionary<string, string>(message.Headers.Count);
            foreach (var header in message.Headers) headers[header.Key] = Encoding.UTF8.GetString(header.GetValueBytes() ?? []);
        }

        var record = new KafkaRecord(result.Topic, result.Partition.Value, result.Offset.Value, message.Key, message.Value ?? [],
            headers, message.Timestamp.UtcDateTime);
        _events.Deliver(new Committable<KafkaRecord>(record, new KafkaCommitHandle(this, state, result.Offset.Value)));
    }

    /// <summary>
    /// A partition at <see cref="KafkaConsumerSettings.MaxInFlightPerPartition"/> gets no more records. Briefly
    /// (<see cref="HoldBeforePause"/>) the consumer just stops polling and waits for settlements: pausing makes
    /// librdkafka drop what it prefetched for the partition and fetch it again on resume, which costs more than a
    /// short wait when downstream is merely bursty. A partition still full after that is paused (a slow downstream),
    /// and polling goes on for the others and for group callbacks. Either way what is held stays bounded.
    /// </summary>
    private bool HoldOrPause(IConsumer<string?, byte[]?> consumer)
    {
        DateTime? oldest = null;
        foreach (var state in _partitions.Values)
            if (!state.Paused && state.FullSince is { } since && (oldest is null || since < oldest))
                oldest = since;
        if (oldest is null) return false;

        var held = DateTime.UtcNow - oldest.Value;
        if (held < HoldBeforePause)
        {
            WaitForSettlement(HoldBeforePause - held < PollTimeout ? HoldBeforePause - held : PollTimeout);
            return true;
        }

        foreach (var state in _partitions.Values)
        {
            if (state.Paused || state.FullSince is null) continue;
            consumer.Pause([state.Partition]);
            state.Paused = true;
        }

        return false;
    }

    /// <summary>Blocks the poll thread until a record is settled (or stop is requested), at most <paramref name="max"/>.</summary>
    private void WaitForSettlement(TimeSpan max)
    {
        _settled.Reset();
        if (_settlements.IsEmpty && !_stopRequested) _settled.Wait(max);
    }

    private bool AllPaused()
    {
        foreach (var state in _partitions.Values)
            if (!state.Paused)
                return false;
        return true;
    }

    internal void Settle(PartitionState state, long offset, bool done)
    {
        _settlements.Enqueue(new Settlement(state, offset, done));
        _settled.Set();
        Interlocked.Decrement(ref _outstanding);
        _events.Settled();
    }

    private void ApplySettlements(IConsumer<string?, byte[]?> consumer)
    {
        while (_settlements.TryDequeue(out var settlement))
        {
            var state = settlement.State;
            if (state.IsRevoked) continue; // another consumer owns the partition now; it consumes from the last commit
            if (settlement.Done)
            {
                state.Offsets.Completed(settlement.Offset);
            }
            else if (!_stopRequested && state.Offsets.Released(settlement.Offset) is { } seekTo)
            {
                try
                {
                    consumer.Seek(new TopicPartitionOffset(state.Partition, seekTo));
                }
                catch (KafkaException ex) when (!ex.Error.IsFatal)
                {
                    // The partition cannot seek right now (e.g. its fetcher is being set up again): start this
                    // session over; the new one resumes from the committed position, which never passes the released record.
                    _events.Note($"seek of {state.Partition} to {seekTo} refused: {ex.Error.Reason}");
                    throw;
                }
            }

            if (state.Offsets.InFlight <= _settings.MaxInFlightPerPartition / 2)
            {
                state.FullSince = null;
                if (state.Paused)
                {
                    consumer.Resume([state.Partition]);
                    state.Paused = false;
                }
            }
        }
    }

    private void CommitIfDue(IConsumer<string?, byte[]?> consumer, bool force, IReadOnlyCollection<PartitionState>? only = null)
    {
        var states = only ?? _partitions.Values;
        var settled = 0;
        foreach (var state in states) settled += state.Offsets.SettledSinceCommit;
        if (!force && settled < _settings.CommitBatch && (settled == 0 || DateTime.UtcNow - _lastCommit < _settings.CommitInterval)) return;

        var offsets = new List<TopicPartitionOffset>();
        foreach (var state in states)
            if (state.Offsets.Uncommitted is { } position)
                offsets.Add(new TopicPartitionOffset(state.Partition, position));
        _lastCommit = DateTime.UtcNow;
        if (offsets.Count == 0) return;
        try
        {
            consumer.Commit(offsets);
            foreach (var state in states)
                if (state.Offsets.Uncommitted is { } position && offsets.Exists(o => o.TopicPartition == state.Partition && o.Offset.Value == position))
                    state.Offsets.MarkCommitted(position);
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // Rebalance in progress, coordinator moving…: the positions stay uncommitted and go with the next commit
            // (a rebalance is not a connection problem, so the state stays as it is).
            _events.Note("offset commit refused: " + ex.Error.Reason);
        }
    }

    /// <summary>Partitions revoked (or lost): wait a bounded time for their records in flight, commit, and let go.</summary>
    private void LetGo(IConsumer<string?, byte[]?> consumer, List<TopicPartition> partitions, bool commit)
    {
        var states = partitions.Select(tp => _partitions.GetValueOrDefault(tp)).OfType<PartitionState>().ToList();
        if (commit)
        {
            var deadline = DateTime.UtcNow + _settings.RevokeDrainTimeout;
            ApplySettlements(consumer);
            while (!_stopRequested && states.Exists(s => s.Offsets.InFlight > 0) && DateTime.UtcNow < deadline)
            {
                _settled.Reset();
                ApplySettlements(consumer);
                if (states.Exists(s => s.Offsets.InFlight > 0)) _settled.Wait(PollTimeout);
            }

            CommitIfDue(consumer, force: true, only: states);
        }

        foreach (var state in states)
        {
            state.Revoke();
            _partitions.Remove(state.Partition);
        }
    }

    private void OnError(Error error)
    {
        // Fatal errors surface from Consume as exceptions; the others are librdkafka telling us it is retrying.
        if (error.Code is ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport or ErrorCode.Local_Authentication)
            Degrade(error.Reason);
    }

    private void Degrade(string reason)
    {
        _degraded = true;
        _events.Degraded(reason);
    }

    private void Recover()
    {
        if (!_degraded) return;
        _degraded = false;
        _events.Recovered();
    }

    private readonly record struct Settlement(PartitionState State, long Offset, bool Done);

    private sealed class NullableUtf8 : IDeserializer<string?>
    {
        public static readonly NullableUtf8 Instance = new();

        public string? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => isNull ? null : Encoding.UTF8.GetString(data);
    }
}

/// <summary>One assignment of a partition to this consumer; a new assignment is a new state.</summary>
internal sealed class PartitionState(TopicPartition partition)
{
    private readonly TaskCompletionSource _revoked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TopicPartition Partition { get; } = partition;

    public PartitionOffsets Offsets { get; } = new();

    public bool Paused { get; set; }

    /// <summary>Since when the partition has had the maximum of records in flight (null: below it).</summary>
    public DateTime? FullSince { get; set; }

    public bool IsRevoked => _revoked.Task.IsCompleted;

    /// <summary>Completes when the partition is taken away from this consumer.</summary>
    public Task Revoked => _revoked.Task;

    public void Revoke() => _revoked.TrySetResult();
}

/// <summary>Settles one Kafka record: commit (batched offset commit), release (seek back), reject (= commit).</summary>
internal sealed class KafkaCommitHandle(KafkaConsumerSession session, PartitionState state, long offset) : ICommitHandle
{
    private int _settled;

    public PartitionState Assignment => state;

    public ValueTask CommitAsync(CancellationToken cancellation = default) => Settle(done: true);

    public ValueTask ReleaseAsync(CancellationToken cancellation = default) => Settle(done: false);

    public ValueTask RejectAsync(CancellationToken cancellation = default) => Settle(done: true);

    private ValueTask Settle(bool done)
    {
        if (Interlocked.Exchange(ref _settled, 1) == 0) session.Settle(state, offset, done);
        return ValueTask.CompletedTask;
    }
}
