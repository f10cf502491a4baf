using Akka.Actor;
using O2X.Host.Bindings;
using O2X.Actors.Messaging.Bindings;
using O2X.Streams.Connectors;
using O2X.Actors.Messaging;
using Prometheus;

namespace O2X.Host.Observability;

/// <summary>
/// The node's Prometheus metrics (<c>GET /metrics</c>), in a registry of its own so several nodes in one process
/// (tests) never mix. Message counters see every queue whatever the transport (HTTP ingestion or a broker).
/// </summary>
internal sealed class O2XMetrics : IHandlingObserver, Actors.Persistence.Journal.IJournalObserver
{
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
    private static readonly double[] WriterBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter _received;
    private readonly Counter _handled;
    private readonly Counter _retries;
    private readonly Gauge _inFlight;
    private readonly Histogram _latency;
    private readonly Gauge _brokerUp;
    private readonly Gauge _brokerReconnects;
    private readonly Gauge _breakerOpen;
    private readonly Gauge _members;
    private readonly Gauge _depth;
    private readonly Gauge _enqueued;
    private readonly Gauge _dequeued;
    private readonly Gauge _consumers;
    private readonly Gauge _lag;
    private readonly Gauge _deadLetters;
    private readonly Gauge _entities;
    private readonly Gauge _stuck;
    private readonly Histogram _persist;
    private readonly Histogram.Child[] _writePhases;
    private readonly Counter _writerBusy;
    private readonly Counter.Child _groupCommits;
    private readonly Counter.Child _groupCommitsFailed;
    private readonly Counter _journalRequests;
    private readonly Counter _journalRows;
    private readonly Histogram _checkpoint;
    private readonly Counter _checkpointsFailed;
    private readonly Gauge _walFrames;
    private readonly Gauge _walFramesPending;
    private readonly Counter _outboxPruned;
    private readonly Histogram.Child[] _gcPauses;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, BrokerSide> _brokerSide = new(StringComparer.Ordinal);
    private ActorSystem? _system;

    public O2XMetrics(BrokerBindings brokers, BindingBreakers breakers)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _received = factory.CreateCounter("o2x_messages_received_total", "Messages taken in, per queue (HTTP ingestion and broker).",
            new CounterConfiguration { LabelNames = ["queue"] });
        _handled = factory.CreateCounter("o2x_messages_handled_total",
            "Messages settled, per queue and outcome: processed, duplicate, rejected (error destination), dead_lettered, failed (given back to the transport).",
            new CounterConfiguration { LabelNames = ["queue", "outcome"] });
        _retries = factory.CreateCounter("o2x_message_retries_total", "Retries scheduled after a failed attempt, per queue.",
            new CounterConfiguration { LabelNames = ["queue"] });
        _inFlight = factory.CreateGauge("o2x_messages_in_flight", "Messages taken in and not settled yet, per queue.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _latency = factory.CreateHistogram("o2x_message_handling_seconds", "From intake to final outcome (retries included), per queue.",
            new HistogramConfiguration { LabelNames = ["queue"], Buckets = LatencyBuckets });
        _brokerUp = factory.CreateGauge("o2x_broker_connection_up", "1 when the queue's broker source is connected, else 0.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _brokerReconnects = factory.CreateGauge("o2x_broker_reconnects", "Reconnections of the queue's broker source since start.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _breakerOpen = factory.CreateGauge("o2x_circuit_breaker_open", "1 when the queue's circuit breaker is open or half-open, else 0.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _members = factory.CreateGauge("o2x_cluster_members", "Cluster members this node sees, per status (up, joining, leaving, unreachable, …).",
            new GaugeConfiguration { LabelNames = ["status"] });

        _depth = factory.CreateGauge("o2x_queue_depth", "Messages in the broker queue (RabbitMQ: ready; ActiveMQ: queue size), sampled.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _consumers = factory.CreateGauge("o2x_queue_consumers", "Consumers of the broker queue (RabbitMQ, ActiveMQ), all nodes together, sampled.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _enqueued = factory.CreateGauge("o2x_queue_enqueued", "ActiveMQ: messages enqueued on the broker queue since the broker started, sampled.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _dequeued = factory.CreateGauge("o2x_queue_dequeued", "ActiveMQ: messages dequeued (acknowledged) from the broker queue since the broker started, sampled.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _lag = factory.CreateGauge("o2x_consumer_lag", "Kafka: high watermark minus the group's committed offset, summed over partitions, sampled.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _deadLetters = factory.CreateGauge("o2x_dead_letters", "Dead letters waiting (status DEAD), per queue, cluster-wide, sampled.",
            new GaugeConfiguration { LabelNames = ["queue"] });
        _entities = factory.CreateGauge("o2x_entities_active", "Entities running on this node, per entity type, sampled.",
            new GaugeConfiguration { LabelNames = ["type"] });

        _stuck = factory.CreateGauge("o2x_orders_provisioning_stuck",
            "Orders STUCK: provisioning unanswered for longer than O2X:Orders:ProvisioningTimeout, cluster-wide, sampled.");

        _persist = factory.CreateHistogram("o2x_persist_seconds",
            "Durable write of an entity's events (journal group commit included), per entity type (order, account, rejections).",
            new HistogramConfiguration { LabelNames = ["type"], Buckets = LatencyBuckets });

        // The journal's single writer (README, "Health and metrics"): why a durable write was slow, and how close the
        // writer is to saturation (rate of the busy counter: 1 = writing all the time).
        var phases = factory.CreateHistogram("o2x_journal_write_seconds",
            "Journal group commits by phase: queued (the oldest request's wait for the writer), gate (SQLite's write turn), statements, commit (with fsync).",
            new HistogramConfiguration { LabelNames = ["phase"], Buckets = WriterBuckets });
        _writePhases = [.. new[] { "queued", "gate", "statements", "commit" }.Select(p => phases.WithLabels(p))];
        _writerBusy = factory.CreateCounter("o2x_journal_writer_busy_seconds_total", "Time the journal writer spent writing (its rate is the writer's utilisation).");
        var groupCommits = factory.CreateCounter("o2x_journal_group_commits_total",
            "Journal transactions, by result (a failed group commit is written again request by request).", new CounterConfiguration { LabelNames = ["result"] });
        _groupCommits = groupCommits.WithLabels("committed");
        _groupCommitsFailed = groupCommits.WithLabels("failed");
        _journalRequests = factory.CreateCounter("o2x_journal_requests_total", "Write requests (atomic writes and joined writes) the journal writer committed.");
        _journalRows = factory.CreateCounter("o2x_journal_rows_total", "Events the journal writer committed.");
        _checkpoint = factory.CreateHistogram("o2x_sqlite_checkpoint_seconds", "SQLite: time of a PASSIVE checkpoint of the write-ahead log (every 500 ms).",
            new HistogramConfiguration { Buckets = WriterBuckets });
        _checkpointsFailed = factory.CreateCounter("o2x_sqlite_checkpoints_failed_total", "SQLite: checkpoints that could not run (busy or unavailable).");
        _walFrames = factory.CreateGauge("o2x_sqlite_wal_frames", "SQLite: pages (frames) in the write-ahead log at the last checkpoint.");
        _walFramesPending = factory.CreateGauge("o2x_sqlite_wal_frames_pending",
            "SQLite: frames the last checkpoint could not copy into the database file yet (readers still needed them).");
        _outboxPruned = factory.CreateCounter("o2x_outbox_pruned_total",
            "Outbound messages the outbox's retention deleted (O2X:Outbox:Retention); counted on the node running it.");

        // The process and the runtime, as operators of any .NET service expect them: prometheus-net's process_* and dotnet_*
        // (CPU, memory, collections per generation), and what a latency spike is first checked against — the collector's
        // pauses, allocation, lock contention and the thread pool's backlog. All read at scrape time, nothing runs between.
        DotNetStats.Register(Registry);
        var gcPause = factory.CreateCounter("dotnet_gc_pause_seconds_total", "Time the garbage collector paused the process since it started.");
        var gcPauses = factory.CreateHistogram("dotnet_gc_pause_duration_seconds",
            "Each pause of the process by the garbage collector, by the generation of the collection (GcPauses).",
            new HistogramConfiguration { LabelNames = ["generation"], Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _gcPauses = [gcPauses.WithLabels("0"), gcPauses.WithLabels("1"), gcPauses.WithLabels("2")];
        var allocated = factory.CreateCounter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
        var contentions = factory.CreateCounter("dotnet_monitor_lock_contentions_total", "Times a thread waited for a lock another held, since the process started.");
        var queued = factory.CreateGauge("dotnet_threadpool_queue_length", "Work items waiting in the thread pool's queues.");
        var threads = factory.CreateGauge("dotnet_threadpool_threads", "Threads of the thread pool.");
        Registry.AddBeforeCollectCallback(() =>
        {
            gcPause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
            allocated.IncTo(GC.GetTotalAllocatedBytes());
            contentions.IncTo(Monitor.LockContentionCount);
            queued.Set(ThreadPool.PendingWorkItemCount);
            threads.Set(ThreadPool.ThreadCount);
        });

        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (queue, binding) in brokers.Running)
            {
                var status = binding.Control.Status.Snapshot;
                _brokerUp.WithLabels(queue).Set(status.State == ConnectionState.Connected ? 1 : 0);
                _brokerReconnects.WithLabels(queue).Set(status.Reconnects);
            }

            foreach (var (queue, breaker) in breakers.All) _breakerOpen.WithLabels(queue).Set(breaker.State == BreakerState.Closed ? 0 : 1);
            if (_system is { } system) CollectMembers(system);
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Cluster membership is read at scrape time once the actor system runs.</summary>
    public void Attach(ActorSystem system)
    {
        _system = system;
        var persist = _persist;
        var pruned = _outboxPruned;
        system.ActorOf(Props.Create(() => new EventListener<Actors.Sharding.PersistLatency>(p => persist.WithLabels(p.EntityType).Observe(p.Elapsed.TotalSeconds))),
            "metrics-persist-latency");
        system.ActorOf(Props.Create(() => new EventListener<Actors.Messaging.Outbox.OutboxPruned>(p => pruned.Inc(p.Count))), "metrics-outbox-pruned");
        Actors.Persistence.Journal.JournalObservers.For(system).Attach(this);
    }

    /// <summary>One pause of the process by a collection of <paramref name="generation"/> (0–2).</summary>
    public void GcPaused(int generation, TimeSpan paused) => _gcPauses[Math.Clamp(generation, 0, 2)].Observe(paused.TotalSeconds);

    public void GroupCommitted(in Actors.Persistence.Journal.GroupCommit commit)
    {
        _writerBusy.Inc((commit.Gate + commit.Statements + commit.Commit).TotalSeconds);
        if (commit.Failed)
        {
            _groupCommitsFailed.Inc();
        }
        else
        {
            _groupCommits.Inc();
            _journalRequests.Inc(commit.Requests);
            _journalRows.Inc(commit.Rows);
        }

        _writePhases[0].Observe(commit.Queued.TotalSeconds);
        _writePhases[1].Observe(commit.Gate.TotalSeconds);
        _writePhases[2].Observe(commit.Statements.TotalSeconds);
        _writePhases[3].Observe(commit.Commit.TotalSeconds);
    }

    public void Checkpointed(in Actors.Persistence.Journal.WalCheckpoint checkpoint)
    {
        _checkpoint.Observe(checkpoint.Elapsed.TotalSeconds);
        if (checkpoint.Failed)
        {
            _checkpointsFailed.Inc();
            return;
        }

        _walFrames.Set(checkpoint.WalFrames);
        _walFramesPending.Set(Math.Max(0, checkpoint.WalFrames - checkpoint.Checkpointed));
    }

    /// <summary>Records every <typeparamref name="T"/> the actor system's event stream carries (what entities and singletons report).</summary>
    private sealed class EventListener<T> : ReceiveActor
    {
        public EventListener(Action<T> record) => Receive(record);

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(T));

        protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
    }

    public void RetryScheduled(string queue) => _retries.WithLabels(queue).Inc();

    public void Started(MessageEnvelope envelope)
    {
        var q = Of(envelope.Queue);
        q.Received.Inc();
        q.InFlight.Inc();
    }

    public void Completed(MessageEnvelope envelope, HandlingOutcome outcome, TimeSpan elapsed)
    {
        var q = Of(envelope.Queue);
        q.InFlight.Dec();
        q.Handled[OutcomeIndex(outcome)].Inc();
        q.Latency.Observe(elapsed.TotalSeconds);
    }

    /// <summary>One queue's labelled series, looked up once instead of by label values on every message.</summary>
    private sealed record QueueSeries(Counter.Child Received, Gauge.Child InFlight, Counter.Child[] Handled, Histogram.Child Latency);

    private static readonly string[] OutcomeLabels = ["processed", "duplicate", "rejected", "dead_lettered", "failed"];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, QueueSeries> _series = new(StringComparer.Ordinal);

    private QueueSeries Of(string queue) => _series.GetOrAdd(queue, q => new QueueSeries(
        _received.WithLabels(q), _inFlight.WithLabels(q), [.. OutcomeLabels.Select(o => _handled.WithLabels(q, o))], _latency.WithLabels(q)));

    private static int OutcomeIndex(HandlingOutcome outcome) => outcome switch
    {
        HandlingOutcome.Processed => 0,
        HandlingOutcome.Duplicate => 1,
        HandlingOutcome.Rejected => 2,
        HandlingOutcome.DeadLettered => 3,
        _ => 4,
    };

    /// <summary>What the broker says about a queue (null where the transport cannot tell).</summary>
    public sealed record BrokerSide(long? Depth, long? Consumers, long? Lag, long? Enqueued = null, long? Dequeued = null);

    public BrokerSide? BrokerSideOf(string queue) => _brokerSide.GetValueOrDefault(queue);

    public void SetQueueDepth(string queue, long messages, long consumers)
    {
        _depth.WithLabels(queue).Set(messages);
        _consumers.WithLabels(queue).Set(consumers);
        _brokerSide[queue] = new BrokerSide(messages, consumers, null);
    }

    /// <summary>ActiveMQ's statistics plugin: size, consumers, and the enqueue/dequeue counters of seed §7.1.</summary>
    public void SetBrokerStatistics(string queue, long size, long consumers, long enqueued, long dequeued)
    {
        _depth.WithLabels(queue).Set(size);
        _consumers.WithLabels(queue).Set(consumers);
        _enqueued.WithLabels(queue).Set(enqueued);
        _dequeued.WithLabels(queue).Set(dequeued);
        _brokerSide[queue] = new BrokerSide(size, consumers, null, enqueued, dequeued);
    }

    public void SetConsumerLag(string queue, long lag)
    {
        _lag.WithLabels(queue).Set(lag);
        _brokerSide[queue] = new BrokerSide(null, null, lag);
    }

    public void SetDeadLetters(string queue, long count) => _deadLetters.WithLabels(queue).Set(count);

    public void SetStuckOrders(long count) => _stuck.Set(count);

    public void SetActiveEntities(string type, long count) => _entities.WithLabels(type).Set(count);

    /// <summary>The counters of one queue as they stand (for the admin API and the o2x tool).</summary>
    public QueueCounters Snapshot(string queue)
    {
        var q = Of(queue);
        return new QueueCounters((long)q.Received.Value, (long)q.Handled[0].Value, (long)q.Handled[1].Value, (long)q.Handled[2].Value,
            (long)q.Handled[3].Value, (long)q.Handled[4].Value, (long)_retries.WithLabels(queue).Value, (long)q.InFlight.Value);
    }

    public static string OutcomeLabel(HandlingOutcome outcome) => OutcomeLabels[OutcomeIndex(outcome)];

    private void CollectMembers(ActorSystem system)
    {
        if (system.WhenTerminated.IsCompleted) return;
        var state = Akka.Cluster.Cluster.Get(system).State;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["up"] = 0, ["joining"] = 0, ["weaklyup"] = 0, ["leaving"] = 0, ["exiting"] = 0, ["down"] = 0, ["unreachable"] = 0,
        };
        foreach (var member in state.Members)
        {
            var key = member.Status.ToString().ToLowerInvariant();
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        counts["unreachable"] = state.Unreachable.Count;
        foreach (var (status, count) in counts) _members.WithLabels(status).Set(count);
    }
}

/// <summary>One queue's message counters since the node started.</summary>
internal sealed record QueueCounters(long Received, long Processed, long Duplicates, long Rejected, long DeadLettered, long Failed, long Retries, long InFlight);
