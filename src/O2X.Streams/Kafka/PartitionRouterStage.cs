using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Confluent.Kafka;
using O2X.Streams.Connectors;

namespace O2X.Streams.Kafka;

/// <summary>
/// Splits the committable Kafka stream into one sub-source per partition assignment (see
/// <see cref="Dsl.KafkaSource.CommittablePartitioned"/>). A sub-source completes when its partition is revoked;
/// the next assignment of the partition gets a new one. Upstream is always pulled: what a slow sub-source
/// holds is bounded by the consumer pausing its partition, so one slow partition never stalls the others.
/// </summary>
internal sealed class PartitionRouterStage
    : GraphStage<FlowShape<Committable<KafkaRecord>, (TopicPartition Partition, Source<Committable<KafkaRecord>, NotUsed> Records)>>
{
    private readonly Inlet<Committable<KafkaRecord>> _in = new("kafka-partitions.in");
    private readonly Outlet<(TopicPartition, Source<Committable<KafkaRecord>, NotUsed>)> _out = new("kafka-partitions.out");

    public override FlowShape<Committable<KafkaRecord>, (TopicPartition Partition, Source<Committable<KafkaRecord>, NotUsed> Records)> Shape => new(_in, _out);

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : GraphStageLogic
    {
        private readonly PartitionRouterStage _stage;
        private readonly Dictionary<TopicPartition, SubSource> _subs = new();
        private readonly Queue<(TopicPartition, Source<Committable<KafkaRecord>, NotUsed>)> _unannounced = new();
        private Action<SubSource> _onRevoked = null!;

        public Logic(PartitionRouterStage stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage._in, onPush: OnPush, onUpstreamFinish: () =>
            {
                foreach (var sub in _subs.Values.ToList()) sub.CompleteWhenDrained();
                MaybeComplete();
            }, onUpstreamFailure: error =>
            {
                foreach (var sub in _subs.Values) sub.Outlet.Fail(error);
                FailStage(error);
            });
            SetHandler(stage._out, onPull: () =>
            {
                if (_unannounced.TryDequeue(out var next)) Push(_stage._out, next);
                MaybeComplete();
            }, onDownstreamFinish: cause =>
            {
                foreach (var sub in _subs.Values) sub.ReleaseQueued();
                CompleteStage();
            });
        }

        public override void PreStart()
        {
            _onRevoked = GetAsyncCallback<SubSource>(sub => sub.CompleteWhenDrained());
            SetKeepGoing(true);
            Pull(_stage._in);
        }

        private void OnPush()
        {
            var element = Grab(_stage._in);
            if (element.Handle is not KafkaCommitHandle { Assignment: var assignment })
                throw new InvalidOperationException("The partition router only routes records of a Kafka committable source.");

            if (!_subs.TryGetValue(assignment.Partition, out var sub) || !ReferenceEquals(sub.Assignment, assignment))
            {
                sub?.CompleteWhenDrained();
                sub = new SubSource(this, assignment);
                _subs[assignment.Partition] = sub;
                var announcement = (assignment.Partition, Source.FromGraph(sub.Outlet.Source));
                if (IsAvailable(_stage._out)) Push(_stage._out, announcement);
                else _unannounced.Enqueue(announcement);
                assignment.Revoked.ContinueWith(_ => _onRevoked(sub), TaskScheduler.Default);
            }

            sub.Offer(element);
            Pull(_stage._in);
        }

        private void Remove(SubSource sub)
        {
            if (_subs.TryGetValue(sub.Assignment.Partition, out var current) && ReferenceEquals(current, sub)) _subs.Remove(sub.Assignment.Partition);
            MaybeComplete();
        }

        private void MaybeComplete()
        {
            if (!IsClosed(_stage._in) || _unannounced.Count > 0) return;
            if (!IsClosed(_stage._out)) Complete(_stage._out);
            if (_subs.Count == 0) CompleteStage();
        }

        private sealed class SubSource
        {
            private readonly Logic _logic;
            private readonly Queue<Committable<KafkaRecord>> _queue = new();
            private bool _completing;
            private bool _closed;

            public SubSource(Logic logic, PartitionState assignment)
            {
                _logic = logic;
                Assignment = assignment;
                Outlet = new SubSourceOutlet<Committable<KafkaRecord>>(logic, "partition-" + assignment.Partition);
                Outlet.SetHandler(new LambdaOutHandler(onPull: () =>
                {
                    if (_queue.TryDequeue(out var next)) Outlet.Push(next);
                    if (_queue.Count == 0 && _completing) Close();
                }, onDownstreamFinish: _ =>
                {
                    // Not consumed any further: what it held goes back (and is consumed again after a seek).
                    ReleaseQueued();
                    _closed = true;
                    _logic.Remove(this);
                }));
            }

            public PartitionState Assignment { get; }

            public SubSourceOutlet<Committable<KafkaRecord>> Outlet { get; }

            public void Offer(Committable<KafkaRecord> element)
            {
                if (_closed || _completing)
                {
                    _ = element.Handle.ReleaseAsync();
                    return;
                }

                if (Outlet.IsAvailable && _queue.Count == 0) Outlet.Push(element);
                else _queue.Enqueue(element);
            }

            public void CompleteWhenDrained()
            {
                if (_closed) return;
                _completing = true;
                if (Assignment.IsRevoked)
                {
                    // Revoked: the new owner consumes these from the last commit; settle them here as given back.
                    ReleaseQueued();
                }

                if (_queue.Count == 0) Close();
            }

            public void ReleaseQueued()
            {
                while (_queue.TryDequeue(out var queued)) _ = queued.Handle.ReleaseAsync();
            }

            private void Close()
            {
                if (_closed) return;
                _closed = true;
                Outlet.Complete();
                _logic.Remove(this);
            }
        }
    }
}
